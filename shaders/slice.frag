#version 330 core
// One slice view: the image under window/level, then label colours (filled or outlined).
uniform sampler3D u_image;
uniform mat4 u_fragToImage;     // gl_FragCoord -> image texture coordinates
uniform int u_hasImage;
uniform vec2 u_window;          // display range low, high

uniform usampler3D u_labels;
uniform sampler2D u_labelColors; // one row: colour of label n at texel n
uniform mat4 u_fragToLabels;
uniform ivec3 u_labelDims;
uniform int u_hasLabels;
uniform float u_labelOpacity;
uniform int u_labelOutline;

uniform vec3 u_background;

out vec4 o_color;

bool inside(vec3 t) { return all(greaterThanEqual(t, vec3(0.0))) && all(lessThanEqual(t, vec3(1.0))); }

uint labelAt(vec2 frag) {
    vec3 t = (u_fragToLabels * vec4(frag, 0.0, 1.0)).xyz;
    if (!inside(t)) return 0u;
    ivec3 voxel = clamp(ivec3(floor(t * vec3(u_labelDims))), ivec3(0), u_labelDims - 1);
    return texelFetch(u_labels, voxel, 0).r;
}

vec4 labelColor(uint label) {
    int n = min(int(label), textureSize(u_labelColors, 0).x - 1);
    return texelFetch(u_labelColors, ivec2(n, 0), 0);
}

void main() {
    vec3 color = u_background;
    if (u_hasImage != 0) {
        vec3 t = (u_fragToImage * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz;
        if (inside(t)) {
            float v = texture(u_image, t).r;
            float g = clamp((v - u_window.x) / max(u_window.y - u_window.x, 1e-20), 0.0, 1.0);
            color = vec3(g);
        }
    }
    if (u_hasLabels != 0) {
        uint label = labelAt(gl_FragCoord.xy);
        if (u_labelOutline != 0) {
            // Screen-space outline: a labelled pixel whose neighbour has another label.
            bool edge = label != 0u &&
                (labelAt(gl_FragCoord.xy + vec2(1, 0)) != label ||
                 labelAt(gl_FragCoord.xy - vec2(1, 0)) != label ||
                 labelAt(gl_FragCoord.xy + vec2(0, 1)) != label ||
                 labelAt(gl_FragCoord.xy - vec2(0, 1)) != label);
            if (edge) color = mix(color, labelColor(label).rgb, min(1.0, u_labelOpacity * 2.0));
        } else if (label != 0u) {
            vec4 c = labelColor(label);
            color = mix(color, c.rgb, u_labelOpacity * c.a);
        }
    }
    o_color = vec4(color, 1.0);
}
