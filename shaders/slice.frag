#version 330 core
// One slice view: the image under window/level, a scalar overlay through a colour map
// (probabilities, explanation maps), then up to three label layers (filled or outlined).
uniform sampler3D u_image;
uniform mat4 u_fragToImage;     // gl_FragCoord -> image texture coordinates
uniform int u_hasImage;
uniform vec2 u_window;          // display range low, high

uniform sampler3D u_overlay;
uniform mat4 u_fragToOverlay;
uniform int u_hasOverlay;
uniform sampler2D u_colormaps;  // one colour map per row
uniform float u_colormapRow;    // row centre, in texture coordinates
uniform int u_overlaySigned;    // 0: [low, high] -> map; 1: diverging, centred at zero
uniform vec2 u_overlayRange;    // unsigned: low, high. signed: negative extent, positive extent
uniform float u_overlayThreshold; // |value| below this is not drawn
uniform float u_overlayOpacity;

uniform usampler3D u_labels0;
uniform sampler2D u_labelColors0; // one row: colour of label n at texel n
uniform mat4 u_fragToLabels0;
uniform ivec3 u_labelDims0;
uniform int u_hasLabels0;
uniform float u_labelOpacity0;
uniform int u_labelOutline0;

uniform usampler3D u_labels1;
uniform sampler2D u_labelColors1;
uniform mat4 u_fragToLabels1;
uniform ivec3 u_labelDims1;
uniform int u_hasLabels1;
uniform float u_labelOpacity1;
uniform int u_labelOutline1;

uniform usampler3D u_labels2;
uniform sampler2D u_labelColors2;
uniform mat4 u_fragToLabels2;
uniform ivec3 u_labelDims2;
uniform int u_hasLabels2;
uniform float u_labelOpacity2;
uniform int u_labelOutline2;

uniform vec3 u_background;

out vec4 o_color;

bool inside(vec3 t) { return all(greaterThanEqual(t, vec3(0.0))) && all(lessThanEqual(t, vec3(1.0))); }

uint labelAt(usampler3D labels, mat4 fragToLabels, ivec3 dims, vec2 frag) {
    vec3 t = (fragToLabels * vec4(frag, 0.0, 1.0)).xyz;
    if (!inside(t)) return 0u;
    ivec3 voxel = clamp(ivec3(floor(t * vec3(dims))), ivec3(0), dims - 1);
    return texelFetch(labels, voxel, 0).r;
}

vec4 labelColor(sampler2D colors, uint label) {
    int n = min(int(label), textureSize(colors, 0).x - 1);
    return texelFetch(colors, ivec2(n, 0), 0);
}

vec3 blendLabels(vec3 color, usampler3D labels, sampler2D colors, mat4 fragToLabels, ivec3 dims,
                 float opacity, int outline) {
    vec2 f = gl_FragCoord.xy;
    uint label = labelAt(labels, fragToLabels, dims, f);
    if (label == 0u) return color;
    vec4 c = labelColor(colors, label);
    if (outline != 0) {
        // Screen-space outline: a labelled pixel whose neighbour has another label.
        bool edge = labelAt(labels, fragToLabels, dims, f + vec2(1, 0)) != label ||
                    labelAt(labels, fragToLabels, dims, f - vec2(1, 0)) != label ||
                    labelAt(labels, fragToLabels, dims, f + vec2(0, 1)) != label ||
                    labelAt(labels, fragToLabels, dims, f - vec2(0, 1)) != label;
        return edge ? mix(color, c.rgb, min(1.0, opacity * 2.0) * c.a) : color;
    }
    return mix(color, c.rgb, opacity * c.a);
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
    if (u_hasOverlay != 0) {
        vec3 t = (u_fragToOverlay * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz;
        if (inside(t)) {
            float v = texture(u_overlay, t).r;
            if (abs(v) >= u_overlayThreshold && !isnan(v)) {
                float s;
                if (u_overlaySigned != 0) {
                    s = v >= 0.0 ? 0.5 + 0.5 * clamp(v / max(u_overlayRange.y, 1e-20), 0.0, 1.0)
                                 : 0.5 - 0.5 * clamp(-v / max(u_overlayRange.x, 1e-20), 0.0, 1.0);
                } else {
                    s = clamp((v - u_overlayRange.x) / max(u_overlayRange.y - u_overlayRange.x, 1e-20), 0.0, 1.0);
                }
                vec3 mapped = texture(u_colormaps, vec2(s * (255.0 / 256.0) + 0.5 / 256.0, u_colormapRow)).rgb;
                color = mix(color, mapped, u_overlayOpacity);
            }
        }
    }
    if (u_hasLabels0 != 0) {
        color = blendLabels(color, u_labels0, u_labelColors0, u_fragToLabels0, u_labelDims0,
                            u_labelOpacity0, u_labelOutline0);
    }
    if (u_hasLabels1 != 0) {
        color = blendLabels(color, u_labels1, u_labelColors1, u_fragToLabels1, u_labelDims1,
                            u_labelOpacity1, u_labelOutline1);
    }
    if (u_hasLabels2 != 0) {
        color = blendLabels(color, u_labels2, u_labelColors2, u_fragToLabels2, u_labelDims2,
                            u_labelOpacity2, u_labelOutline2);
    }
    o_color = vec4(color, 1.0);
}
