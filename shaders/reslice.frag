#version 330 core
// One volume's slice on its own voxel grid (render/slice_reslice.h): one texel a voxel.
uniform sampler3D u_volume;
uniform mat4 u_fragToVolume;
out vec4 o_value;

void main() {
    o_value = vec4(textureLod(u_volume, (u_fragToVolume * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz, 0.0).r);
}
