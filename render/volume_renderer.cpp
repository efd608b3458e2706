#include "render/volume_renderer.h"

#include "render/shader_library.h"

#include <glm/gtc/matrix_transform.hpp>

namespace segxai::render {

glm::dvec3 OrbitCamera::eye() const {
    const double a = glm::radians(azimuth), e = glm::radians(elevation);
    // LPS: anterior is -y, superior +z. Azimuth turns about +z, elevation lifts towards +z.
    const glm::dvec3 front(std::sin(a) * std::cos(e), -std::cos(a) * std::cos(e), std::sin(e));
    return target + distance * front;
}

glm::dvec3 OrbitCamera::up() const {
    const double a = glm::radians(azimuth), e = glm::radians(elevation);
    return {-std::sin(a) * std::sin(e), std::cos(a) * std::sin(e), std::cos(e)};
}

glm::dmat4 OrbitCamera::view() const {
    const glm::dmat4 look = glm::lookAt(eye(), target, up());
    return glm::translate(glm::dmat4(1.0), glm::dvec3(-pan, 0.0)) * look;
}

glm::dmat4 OrbitCamera::projection(double aspect) const {
    return glm::perspective(glm::radians(fieldOfView), aspect, std::max(1.0, distance * 0.05), distance * 4.0);
}

VolumeRenderer::VolumeRenderer(ShaderLibrary& shaders, FontAtlas& font) : m_shaders(shaders), m_canvas(shaders, font) {}

void VolumeRenderer::render(const OrbitCamera& camera, int width, int height, const VolumeLayers& layers,
                            const VolumeAnnotations& annotations, Framebuffer& target) {
    target.resize(width, height);
    target.bind();
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_BLEND);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    const glm::dvec3 background(0.06, 0.06, 0.08);
    const glm::dmat4 viewProjection = camera.projection(double(width) / double(std::max(height, 1))) * camera.view();
    const glm::dmat4 inverse = glm::inverse(viewProjection);
    // gl_FragCoord (x, y) -> normalised device coordinates at the near (z = -1) or far plane.
    auto fragToNdc = [&](double z) {
        glm::dmat4 m(0.0);
        m[0][0] = 2.0 / width;
        m[1][1] = 2.0 / height;
        m[3] = glm::dvec4(-1.0, -1.0, z, 1.0);
        return m;
    };
    const bool labels = layers.labels && layers.labels->valid() && layers.labels->shellNormalTexture() &&
                        layers.labelColors && layers.labelColors->valid();
    const bool selection = labels && layers.selection && layers.selection->valid();
    std::vector<std::string> features;
    if (layers.mip) features.push_back("MIP");
    if (layers.map.visible()) features.push_back("HAS_MAP");
    if (layers.map.fades()) features.push_back("HAS_CERTAINTY");
    if (labels && !layers.mip) features.push_back("HAS_LABELS");
    if (selection && !layers.mip) features.push_back("HAS_SELECTION");
    const ShaderProgram* program = m_shaders.program("fullscreen.vert", "volume.frag", features);
    if (program && layers.image && layers.image->valid() && layers.transfer && layers.transfer->valid()) {
        // First, before any texture unit is bound for drawing: a first upload binds its texture.
        m_colormaps.ensureUploaded();
        program->use();
        program->set("u_fragToWorldNear", glm::mat4(inverse * fragToNdc(-1.0)));
        program->set("u_fragToWorldFar", glm::mat4(inverse * fragToNdc(1.0)));
        program->set("u_image", 0);
        bindTexture(GL_TEXTURE_3D, layers.image->texture(), 0);
        program->set("u_worldToImage", glm::mat4(layers.image->worldToTexture()));
        program->set("u_imageDims", glm::vec3(layers.image->dims()));
        program->set("u_imageRange", glm::vec2(layers.low, layers.high));
        program->set("u_transfer", 1);
        bindTexture(GL_TEXTURE_2D, layers.transfer->texture(), 1);
        program->set("u_stepScale", layers.stepScale);
        program->set("u_map", 2);
        program->set("u_colormaps", 3);
        if (layers.map.visible()) {
            bindTexture(GL_TEXTURE_3D, layers.map.values->texture(), 2);
            bindTexture(GL_TEXTURE_2D, m_colormaps.texture(), 3);
            program->set("u_worldToMap", glm::mat4(layers.map.values->worldToTexture()));
            program->set("u_colormapRow", ColormapTexture::row(layers.map.colormap));
            program->set("u_mapSigned", layers.map.signedMap ? 1 : 0);
            const float positive = std::max(layers.map.signedMap ? layers.map.positiveExtent : layers.map.high, 1e-20f);
            const float negative = layers.map.signedMap ? std::max(layers.map.negativeExtent, 1e-20f) : positive;
            program->set("u_mapExtent", glm::vec2(negative, positive));
            program->set("u_mapThreshold", layers.map.threshold);
            program->set("u_mapOpacity", layers.map.opacity);
        }
        program->set("u_certainty", 8);
        if (layers.map.fades()) {
            bindTexture(GL_TEXTURE_3D, layers.map.certainty->texture(), 8);
            program->set("u_worldToCertainty", glm::mat4(layers.map.certainty->worldToTexture()));
        }
        program->set("u_labels", 4);
        program->set("u_labelColors", 5);
        program->set("u_selection", 6);
        program->set("u_labelNormals", 7);
        if (labels) {
            bindTexture(GL_TEXTURE_3D, layers.labels->texture(), 4);
            bindTexture(GL_TEXTURE_2D, layers.labelColors->texture(), 5);
            bindTexture(GL_TEXTURE_3D, layers.labels->shellNormalTexture(), 7);
            program->set("u_worldToLabels", glm::mat4(layers.labels->worldToTexture()));
            program->set("u_labelOpacity", layers.labelOpacity);
            if (selection) {
                bindTexture(GL_TEXTURE_3D, layers.selection->texture(), 6);
                program->set("u_worldToSelection", glm::mat4(layers.selection->worldToTexture()));
                program->set("u_selectionColour", layers.selectionColour);
            }
        }
        program->set("u_clipPoint", glm::vec3(layers.clipPoint));
        glUniform3i(program->location("u_clipAxes"), layers.clipAxes.x, layers.clipAxes.y, layers.clipAxes.z);
        program->set("u_lightDirection", glm::vec3(glm::normalize(camera.eye() - camera.target)));
        program->set("u_background", glm::vec3(background));
        if (!m_emptyVao) m_emptyVao = createVertexArray();
        glBindVertexArray(m_emptyVao.get());
        glDrawArrays(GL_TRIANGLES, 0, 3);
        glBindVertexArray(0);
        glActiveTexture(GL_TEXTURE0);
    }

    const float w = float(width), h = float(height), fs = annotations.fontSize;
    const float pad = std::round(fs * 0.4f);
    const glm::vec4 textColor(1.0f, 1.0f, 0.85f, 1.0f);
    m_canvas.begin(width, height);
    if (annotations.axes) {
        // World axes as seen by the camera, at the lower left.
        const glm::dmat3 rotation(camera.view());
        const glm::vec2 origin(pad + fs * 2.2f, h - pad - fs * 2.2f);
        const float length = fs * 1.8f;
        const struct {
            glm::dvec3 axis;
            const char* letter;
            glm::vec4 color;
        } axes[] = {{{1, 0, 0}, "L", {1.0f, 0.4f, 0.4f, 1.0f}},
                    {{0, -1, 0}, "A", {0.4f, 1.0f, 0.4f, 1.0f}},
                    {{0, 0, 1}, "S", {0.45f, 0.6f, 1.0f, 1.0f}}};
        for (const auto& a : axes) {
            const glm::dvec3 v = rotation * a.axis;
            const glm::vec2 end = origin + glm::vec2(float(v.x), float(-v.y)) * length;
            m_canvas.line(origin, end, 2.0f, a.color);
            m_canvas.text(origin + glm::vec2(float(v.x), float(-v.y)) * (length + fs * 0.6f), a.letter, fs * 0.9f,
                          a.color, TextAnchor::Center);
        }
    }
    if (!annotations.topLeftText.empty()) m_canvas.text({pad, pad}, annotations.topLeftText, fs, textColor);
    if (!annotations.topRightText.empty()) {
        m_canvas.text({w - pad, pad}, annotations.topRightText, fs, textColor, TextAnchor::TopRight);
    }
    drawColourBar(m_canvas, annotations.colourBar, w, h, fs);
    m_canvas.end();
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

} // namespace segxai::render
