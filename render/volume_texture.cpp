#include "render/volume_texture.h"

#include "render/shell_normals.h"
#include "render/texture_memory.h"

#include <chrono>
#include <glm/gtc/matrix_transform.hpp>
#include <vector>

namespace segxai::render {
namespace {

// The bound 3D texture samples its edge voxel beyond its edges.
void clampToEdges() {
    for (GLenum wrap : {GL_TEXTURE_WRAP_S, GL_TEXTURE_WRAP_T, GL_TEXTURE_WRAP_R})
        glTexParameteri(GL_TEXTURE_3D, wrap, GL_CLAMP_TO_EDGE);
}

} // namespace

void VolumeTexture::describe(const glm::ivec3& dims, const glm::dmat4& worldToVoxel, uint64_t generation, bool labels,
                             bool shellNormals) {
    m_dims = dims;
    m_generation = generation;
    m_labels = labels;
    m_shellNormals = shellNormals;
    m_staging = false;
    m_stagedVoxels = nullptr;
    m_stagedNormals = nullptr;
    m_slicesUploaded = 0;
    m_memoryReady = {};
    m_worldToVoxel = worldToVoxel;
    // Voxel centre index n sits at texture coordinate (n + 0.5) / dims.
    m_worldToTexture = glm::scale(glm::dmat4(1.0), 1.0 / glm::dvec3(dims)) *
                       glm::translate(glm::dmat4(1.0), glm::dvec3(0.5)) * worldToVoxel;
}

void VolumeTexture::specify(const void* voxels, const glm::u8vec4* normals) {
    if (!m_texture) m_texture = createTexture();
    glBindTexture(GL_TEXTURE_3D, m_texture.get());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    clampToEdges();
    const glm::ivec3 d = m_dims;
    if (!m_labels) {
        glTexImage3D(GL_TEXTURE_3D, 0, GL_R32F, d.x, d.y, d.z, 0, GL_RED, GL_FLOAT, voxels);
        setLinear(m_linear);
        return;
    }
    glTexImage3D(GL_TEXTURE_3D, 0, GL_R16, d.x, d.y, d.z, 0, GL_RED, GL_UNSIGNED_SHORT, voxels);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    m_normals.reset();
    if (!m_shellNormals) return;
    m_normals = createTexture();
    glBindTexture(GL_TEXTURE_3D, m_normals.get());
    glTexImage3D(GL_TEXTURE_3D, 0, GL_RGBA8, d.x, d.y, d.z, 0, GL_RGBA, GL_UNSIGNED_BYTE, normals);
    clampToEdges();
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
}

bool VolumeTexture::uploadScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                                  uint64_t generation) {
    if (holds(generation)) return false;
    describe(dims, worldToVoxel, generation, false, false);
    specify(voxels, nullptr);
    return true;
}

bool VolumeTexture::uploadLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation, bool shellNormals) {
    if (holds(generation)) return false;
    if (shellNormals) {
        const std::vector<glm::u8vec4> normals = render::shellNormals(dims, labels);
        return uploadLabels(dims, labels, worldToVoxel, generation, normals.data());
    }
    return uploadLabels(dims, labels, worldToVoxel, generation, static_cast<const glm::u8vec4*>(nullptr));
}

bool VolumeTexture::uploadLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation, const glm::u8vec4* shellNormals) {
    if (holds(generation)) return false;
    describe(dims, worldToVoxel, generation, true, shellNormals != nullptr);
    specify(labels, shellNormals);
    return true;
}

void VolumeTexture::stage(const void* voxels, const glm::u8vec4* normals, size_t bytesPerVoxel) {
    // The texture it held goes now: under a software renderer its memory is the first the new
    // one can take.
    m_texture.reset();
    m_normals.reset();
    m_stagedVoxels = voxels;
    m_stagedNormals = normals;
    m_staging = true;
    m_memoryReady = prepareTextureMemory(size_t(m_dims.x) * size_t(m_dims.y) * size_t(m_dims.z) * bytesPerVoxel);
}

bool VolumeTexture::stageScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                                 uint64_t generation) {
    if (holds(generation)) return false;
    describe(dims, worldToVoxel, generation, false, false);
    stage(voxels, nullptr, sizeof(float));
    return true;
}

bool VolumeTexture::stageLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                                uint64_t generation, const glm::u8vec4* shellNormals) {
    if (holds(generation)) return false;
    describe(dims, worldToVoxel, generation, true, shellNormals != nullptr);
    stage(labels, shellNormals, sizeof(uint16_t) + (shellNormals ? sizeof(glm::u8vec4) : 0));
    return true;
}

bool VolumeTexture::uploadSome(double seconds) {
    if (!m_staging) return false;
    if (m_memoryReady.valid()) {
        if (m_memoryReady.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
        m_memoryReady.get();
    }
    const auto start = std::chrono::steady_clock::now();
    if (!m_texture) specify(nullptr, nullptr);
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
    } while (m_slicesUploaded < m_dims.z &&
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
    if (m_slicesUploaded < m_dims.z) return false;
    m_staging = false;
    m_stagedVoxels = nullptr;
    m_stagedNormals = nullptr;
    return true;
}

void VolumeTexture::clear() {
    m_texture.reset();
    m_normals.reset();
    m_generation = 0;
    m_dims = glm::ivec3(0);
    m_staging = false;
    m_stagedVoxels = nullptr;
    m_stagedNormals = nullptr;
    m_slicesUploaded = 0;
    m_memoryReady = {};
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
