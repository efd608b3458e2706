#include "render/volume_texture.h"

#include "render/shell_normals.h"

#include <chrono>
#include <glm/gtc/matrix_transform.hpp>
#include <vector>

namespace segxai::render {

void VolumeTexture::prepare(const glm::ivec3& dims, const glm::dmat4& worldToVoxel, uint64_t generation) {
    if (!m_texture) m_texture = createTexture();
    m_dims = dims;
    m_generation = generation;
    m_slicesUploaded = dims.z; // complete, unless staged
    m_stagedVoxels = nullptr;
    m_stagedNormals = nullptr;
    m_worldToVoxel = worldToVoxel;
    // Voxel centre index n sits at texture coordinate (n + 0.5) / dims.
    m_worldToTexture = glm::scale(glm::dmat4(1.0), 1.0 / glm::dvec3(dims)) *
                       glm::translate(glm::dmat4(1.0), glm::dvec3(0.5)) * worldToVoxel;
    glBindTexture(GL_TEXTURE_3D, m_texture.get());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_WRAP_R, GL_CLAMP_TO_EDGE);
}

bool VolumeTexture::uploadScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                                  uint64_t generation) {
    return defineScalars(dims, voxels, worldToVoxel, generation);
}

bool VolumeTexture::defineScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                                  uint64_t generation) {
    if (m_texture && generation == m_generation) return false;
    prepare(dims, worldToVoxel, generation);
    m_labels = false;
    glTexImage3D(GL_TEXTURE_3D, 0, GL_R32F, dims.x, dims.y, dims.z, 0, GL_RED, GL_FLOAT, voxels);
    setLinear(m_linear);
    return true;
}

bool VolumeTexture::uploadLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation, bool shellNormals) {
    if (m_texture && generation == m_generation) return false;
    if (shellNormals) {
        const std::vector<glm::u8vec4> normals = render::shellNormals(dims, labels);
        return uploadLabels(dims, labels, worldToVoxel, generation, normals.data());
    }
    return uploadLabels(dims, labels, worldToVoxel, generation, static_cast<const glm::u8vec4*>(nullptr));
}

bool VolumeTexture::uploadLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation, const glm::u8vec4* shellNormals) {
    return defineLabels(dims, labels, worldToVoxel, generation, shellNormals != nullptr, shellNormals);
}

bool VolumeTexture::defineLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation, bool shellNormals, const glm::u8vec4* normals) {
    if (m_texture && generation == m_generation) return false;
    prepare(dims, worldToVoxel, generation);
    m_labels = true;
    glTexImage3D(GL_TEXTURE_3D, 0, GL_R16, dims.x, dims.y, dims.z, 0, GL_RED, GL_UNSIGNED_SHORT, labels);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    m_normals.reset();
    if (!shellNormals) return true;
    m_normals = createTexture();
    glBindTexture(GL_TEXTURE_3D, m_normals.get());
    glTexImage3D(GL_TEXTURE_3D, 0, GL_RGBA8, dims.x, dims.y, dims.z, 0, GL_RGBA, GL_UNSIGNED_BYTE, normals);
    for (GLenum wrap : {GL_TEXTURE_WRAP_S, GL_TEXTURE_WRAP_T, GL_TEXTURE_WRAP_R})
        glTexParameteri(GL_TEXTURE_3D, wrap, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    return true;
}

bool VolumeTexture::stageScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation) {
    if (!defineScalars(dims, nullptr, worldToVoxel, generation)) return false;
    m_stagedVoxels = voxels;
    m_slicesUploaded = 0;
    return true;
}

bool VolumeTexture::stageLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                uint64_t generation, const glm::u8vec4* shellNormals) {
    if (!defineLabels(dims, nullptr, worldToVoxel, generation, shellNormals != nullptr, nullptr)) return false;
    m_stagedVoxels = labels;
    m_stagedNormals = shellNormals;
    m_slicesUploaded = 0;
    return true;
}

bool VolumeTexture::uploadSome(double seconds) {
    if (!staging()) return false;
    const auto start = std::chrono::steady_clock::now();
    const size_t sliceVoxels = size_t(m_dims.x) * size_t(m_dims.y);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    do {
        const int z = m_slicesUploaded;
        glBindTexture(GL_TEXTURE_3D, m_texture.get());
        if (m_labels) {
            glTexSubImage3D(GL_TEXTURE_3D, 0, 0, 0, z, m_dims.x, m_dims.y, 1, GL_RED, GL_UNSIGNED_SHORT,
                            static_cast<const uint16_t*>(m_stagedVoxels) + size_t(z) * sliceVoxels);
        } else {
            glTexSubImage3D(GL_TEXTURE_3D, 0, 0, 0, z, m_dims.x, m_dims.y, 1, GL_RED, GL_FLOAT,
                            static_cast<const float*>(m_stagedVoxels) + size_t(z) * sliceVoxels);
        }
        if (m_stagedNormals) {
            glBindTexture(GL_TEXTURE_3D, m_normals.get());
            glTexSubImage3D(GL_TEXTURE_3D, 0, 0, 0, z, m_dims.x, m_dims.y, 1, GL_RGBA, GL_UNSIGNED_BYTE,
                            m_stagedNormals + size_t(z) * sliceVoxels);
        }
        ++m_slicesUploaded;
    } while (staging() && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
    if (staging()) return false;
    m_stagedVoxels = nullptr;
    m_stagedNormals = nullptr;
    return true;
}

void VolumeTexture::clear() {
    m_texture.reset();
    m_normals.reset();
    m_generation = 0;
    m_dims = glm::ivec3(0);
    m_stagedVoxels = nullptr;
    m_stagedNormals = nullptr;
    m_slicesUploaded = 0;
}

void VolumeTexture::setLinear(bool linear) {
    m_linear = linear;
    if (!m_texture || m_labels) return;
    glBindTexture(GL_TEXTURE_3D, m_texture.get());
    const GLint filter = linear ? GL_LINEAR : GL_NEAREST;
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, filter);
}

} // namespace segxai::render
