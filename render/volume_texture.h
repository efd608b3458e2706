#pragma once
#include "render/gl_objects.h"

#include <cstdint>
#include <glm/glm.hpp>

namespace segxai::render {

// A volume on the GPU as a 3D texture in its own grid (R32F scalars or R16 labels), with
// the world-to-texture map the shaders sample through. The data's generation (never 0) says
// what is on the GPU: an upload of the generation it already holds does nothing.
class VolumeTexture {
public:
    // `worldToVoxel` maps world (mm) to continuous voxel index (voxel centres at integers).
    // Return whether they uploaded.
    bool uploadScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                       uint64_t generation);
    // With `shellNormals`, also the labels' shell normals (render/shell_normals.h) for the 3D view.
    bool uploadLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                      uint64_t generation, bool shellNormals = false);
    // The same with shell normals computed elsewhere (off the render thread: at 512 x 512 x 400
    // they take seconds), one per voxel.
    bool uploadLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                      uint64_t generation, const glm::u8vec4* shellNormals);
    void clear();

    // Staged uploads, for volumes too large to send in one frame (a 512 x 512 x 400 CT's labels
    // and shell normals took 1.1 s): stage*() sizes the texture and remembers the data, which
    // must stay alive and unchanged until staging() is false; uploadSome() sends whole slices.
    // The texture is valid() (drawn) only once every slice is on the GPU. Return whether they
    // staged (not for the generation the texture already holds or is staging).
    bool stageScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel, uint64_t generation);
    bool stageLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                     uint64_t generation, const glm::u8vec4* shellNormals = nullptr);
    // Sends slices until `seconds` have passed (at least one slice); returns whether the
    // texture became complete with them.
    bool uploadSome(double seconds);
    bool staging() const { return m_texture && m_slicesUploaded < m_dims.z; }

    uint64_t generation() const { return m_generation; }
    bool valid() const { return m_texture && !staging(); }
    GLuint texture() const { return m_texture.get(); }
    // RGBA8 shell normals on the same grid, linear; 0 unless uploaded with the labels.
    GLuint shellNormalTexture() const { return m_normals.get(); }
    const glm::ivec3& dims() const { return m_dims; }
    // World (mm) to normalised texture coordinates, and to continuous voxel index.
    const glm::dmat4& worldToTexture() const { return m_worldToTexture; }
    const glm::dmat4& worldToVoxel() const { return m_worldToVoxel; }
    // Linear or nearest sampling of scalars (labels are always sampled nearest).
    void setLinear(bool linear);
    bool linear() const { return m_linear && !m_labels; }
    // Labels are stored as 16-bit normalised values (label n reads n / 65535): the sampling
    // path software rasterisers run fastest, and exact for every uint16 label.
    bool holdsLabels() const { return m_labels; }

private:
    void prepare(const glm::ivec3& dims, const glm::dmat4& worldToVoxel, uint64_t generation);

    // Sizes the scalar texture (a generation it does not hold), filled by `voxels` at once when
    // given; returns whether it did.
    bool defineScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel,
                       uint64_t generation);
    // Sizes the label texture (and the normals' when `shellNormals`) for a generation it does
    // not hold, filled by `labels` and `normals` at once when given; returns whether it did.
    bool defineLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                      uint64_t generation, bool shellNormals, const glm::u8vec4* normals);

    TextureName m_texture;
    TextureName m_normals;
    glm::ivec3 m_dims{0};
    glm::dmat4 m_worldToTexture{1.0};
    glm::dmat4 m_worldToVoxel{1.0};
    bool m_labels = false;
    uint64_t m_generation = 0;
    bool m_linear = true;
    // A staged upload's data and progress (every slice uploaded when not staging).
    const void* m_stagedVoxels = nullptr;
    const glm::u8vec4* m_stagedNormals = nullptr;
    int m_slicesUploaded = 0;
};

} // namespace segxai::render
