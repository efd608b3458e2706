#pragma once
#include "render/gl_objects.h"

#include <cstdint>
#include <future>
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
    // and shell normals took 1.1 s): stage*() remembers the data, which must stay alive and
    // unchanged until staging() is false, and under a software renderer has the texture's memory
    // faulted in on another thread (render/texture_memory.h); uploadSome() then sizes the
    // texture and sends whole slices. The texture is valid() (drawn) only once every slice is on
    // the GPU. Return whether they staged (not for the generation the texture already holds or
    // is staging).
    bool stageScalars(const glm::ivec3& dims, const float* voxels, const glm::dmat4& worldToVoxel, uint64_t generation);
    bool stageLabels(const glm::ivec3& dims, const uint16_t* labels, const glm::dmat4& worldToVoxel,
                     uint64_t generation, const glm::u8vec4* shellNormals = nullptr);
    // Sends slices until `seconds` have passed (at least one slice, once the memory is ready);
    // returns whether the texture became complete with them.
    bool uploadSome(double seconds);
    bool staging() const { return m_staging; }
    int slicesSent() const { return m_slicesUploaded; } // of a staged texture's dims().z

    uint64_t generation() const { return m_generation; }
    bool valid() const { return m_texture && !m_staging; }
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
    // Records the size, placement, kind and generation of what the texture is to hold.
    void describe(const glm::ivec3& dims, const glm::dmat4& worldToVoxel, uint64_t generation, bool labels,
                  bool shellNormals);
    // Whether the texture holds, or is staging, `generation`.
    bool holds(uint64_t generation) const { return (m_texture || m_staging) && generation == m_generation; }
    // Sizes the texture (and the normals' when described with them) as described, filled by
    // `voxels` and `normals` at once when given.
    void specify(const void* voxels, const glm::u8vec4* normals);
    // Remembers staged data; the texture is sized once its memory is ready.
    void stage(const void* voxels, const glm::u8vec4* normals, size_t bytesPerVoxel);

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
    bool m_staging = false;
    bool m_shellNormals = false;     // described with shell normals
    std::future<void> m_memoryReady; // a staged texture's memory, faulted in (software renderers)
};

} // namespace segxai::render
