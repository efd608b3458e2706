#version 330 core
uniform sampler2D u_glyphs;
uniform int u_useTexture;
in vec2 v_uv;
in vec4 v_color;
out vec4 o_color;
void main() {
    float coverage = u_useTexture != 0 ? texture(u_glyphs, v_uv).r : 1.0;
    o_color = vec4(v_color.rgb, v_color.a * coverage);
}
