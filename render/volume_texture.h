#pragma once
#include "render/gl_objects.h"

#include <cstdint>
#include <glm/glm.hpp>

namespace segxai::render {

// A volume on the GPU as a 3D texture in its own grid (R32F scalars or R16UI labels), with
// the world-to-texture map the shaders sample through. Uploads happen only when the data's
// generation is newer than the one on the GPU.
class VolumeTexture {
public:
    // `worldToVoxel` maps world (mm) to continuous voxel index (voxel centres at integers).
    void uploadScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                       uint64_t generation);
    void uploadLabels(const glm::ivec3& dims, const uint16_t* labels,
                      const glm::dmat4& worldToVoxel, uint64_t generation);
    void clear();

    bool needsUpload(uint64_t generation) const { return !m_texture || generation != m_generation; }
    bool valid() const { return bool(m_texture); }
    GLuint texture() const { return m_texture.get(); }
    const glm::ivec3& dims() const { return m_dims; }
    // World (mm) to normalised texture coordinates.
    const glm::dmat4& worldToTexture() const { return m_worldToTexture; }
    // Linear or nearest sampling of scalars (labels are always fetched exactly).
    void setLinear(bool linear);

private:
    void prepare(const glm::ivec3& dims, const glm::dmat4& worldToVoxel, uint64_t generation);

    TextureName m_texture;
    glm::ivec3 m_dims{0};
    glm::dmat4 m_worldToTexture{1.0};
    uint64_t m_generation = 0;
    bool m_linear = true;
};

} // namespace segxai::render
