#version 330 core
// One slice view: the image under window/level, a scalar overlay through a colour map
// (probabilities, explanation maps), then up to three label layers (filled or outlined).
// Every fetch names level 0 (textureLod): no derivatives to work out per pixel.
// RESLICED: every volume comes as its slice, a 2D texture (render/slice_reslice.h), and the
// matrices map gl_FragCoord to its coordinates (z = 0); otherwise volumes are 3D textures.
#ifdef RESLICED
#define VOLUME sampler2D
#define SAMPLE(volume, t) textureLod(volume, (t).xy, 0.0)
#else
#define VOLUME sampler3D
#define SAMPLE(volume, t) textureLod(volume, t, 0.0)
#endif
uniform VOLUME u_image;
uniform mat4 u_fragToImage;     // gl_FragCoord -> image texture coordinates
uniform vec2 u_window;          // display range low, high

uniform VOLUME u_overlay;
uniform mat4 u_fragToOverlay;
uniform sampler2D u_colormaps;  // one colour map per row
uniform float u_colormapRow;    // row centre, in texture coordinates
uniform int u_overlaySigned;    // 0: [low, high] -> map; 1: diverging, centred at zero
uniform vec2 u_overlayRange;    // unsigned: low, high. signed: negative extent, positive extent
uniform float u_overlayThreshold; // |value| below this is not drawn
uniform float u_overlayOpacity;
uniform VOLUME u_certainty;     // HAS_CERTAINTY: scales the overlay's opacity (0..1)
uniform mat4 u_fragToCertainty;

uniform VOLUME u_labels0;
uniform sampler2D u_labelColors0; // one row: colour of label n at texel n
uniform mat4 u_fragToLabels0;
uniform float u_labelOpacity0;

uniform VOLUME u_labels1;
uniform sampler2D u_labelColors1;
uniform mat4 u_fragToLabels1;
uniform float u_labelOpacity1;

uniform VOLUME u_labels2;
uniform sampler2D u_labelColors2;
uniform mat4 u_fragToLabels2;
uniform float u_labelOpacity2;

uniform vec3 u_background;

out vec4 o_color;

bool inside(vec3 t) { return all(greaterThanEqual(t, vec3(0.0))) && all(lessThanEqual(t, vec3(1.0))); }

// Labels are 16-bit normalised (render/volume_texture.h), sampled nearest.
uint labelAt(VOLUME labels, vec3 t) {
    if (!inside(t)) return 0u;
    return uint(SAMPLE(labels, t).r * 65535.0 + 0.5);
}

vec4 labelColor(sampler2D colors, uint label) {
    float size = float(textureSize(colors, 0).x);
    return textureLod(colors, vec2((min(float(label), size - 1.0) + 0.5) / size, 0.5), 0.0);
}

// Features that are off are compiled out (HAS_IMAGE, HAS_OVERLAY, HAS_CERTAINTY, LABELS0..2,
// OUTLINE0..2): a software rasteriser would otherwise pay for every branch on every pixel.
vec3 blendLabels(vec3 color, VOLUME labels, sampler2D colors, mat4 fragToLabels, float opacity, bool outline) {
    vec3 t = (fragToLabels * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz;
    uint label = labelAt(labels, t);
    if (label == 0u) return color;
    vec4 c = labelColor(colors, label);
    if (outline) {
        // Screen-space outline: a labelled pixel whose neighbour has another label. One
        // pixel right or up moves t by the matrix's first or second column.
        vec3 dx = fragToLabels[0].xyz, dy = fragToLabels[1].xyz;
        bool edge = labelAt(labels, t + dx) != label || labelAt(labels, t - dx) != label ||
                    labelAt(labels, t + dy) != label || labelAt(labels, t - dy) != label;
        return edge ? mix(color, c.rgb, min(1.0, opacity * 2.0) * c.a) : color;
    }
    return mix(color, c.rgb, opacity * c.a);
}

#ifdef OUTLINE0
const bool kOutline0 = true;
#else
const bool kOutline0 = false;
#endif
#ifdef OUTLINE1
const bool kOutline1 = true;
#else
const bool kOutline1 = false;
#endif
#ifdef OUTLINE2
const bool kOutline2 = true;
#else
const bool kOutline2 = false;
#endif

void main() {
    vec3 color = u_background;
#ifdef HAS_IMAGE
    {
        vec3 t = (u_fragToImage * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz;
        if (inside(t)) {
            float v = SAMPLE(u_image, t).r;
            float g = clamp((v - u_window.x) / max(u_window.y - u_window.x, 1e-20), 0.0, 1.0);
            color = vec3(g);
        }
    }
#endif
#ifdef HAS_OVERLAY
    {
        vec3 t = (u_fragToOverlay * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz;
        if (inside(t)) {
            float v = SAMPLE(u_overlay, t).r;
            if (abs(v) >= u_overlayThreshold && !isnan(v)) {
                float s;
                if (u_overlaySigned != 0) {
                    s = v >= 0.0 ? 0.5 + 0.5 * clamp(v / max(u_overlayRange.y, 1e-20), 0.0, 1.0)
                                 : 0.5 - 0.5 * clamp(-v / max(u_overlayRange.x, 1e-20), 0.0, 1.0);
                } else {
                    s = clamp((v - u_overlayRange.x) / max(u_overlayRange.y - u_overlayRange.x, 1e-20), 0.0, 1.0);
                }
                vec3 mapped = textureLod(u_colormaps, vec2(s * (255.0 / 256.0) + 0.5 / 256.0, u_colormapRow), 0.0).rgb;
                float opacity = u_overlayOpacity;
#ifdef HAS_CERTAINTY
                vec3 tc = (u_fragToCertainty * vec4(gl_FragCoord.xy, 0.0, 1.0)).xyz;
                opacity *= inside(tc) ? clamp(SAMPLE(u_certainty, tc).r, 0.0, 1.0) : 0.0;
#endif
                color = mix(color, mapped, opacity);
            }
        }
    }
#endif
#ifdef LABELS0
    color = blendLabels(color, u_labels0, u_labelColors0, u_fragToLabels0, u_labelOpacity0, kOutline0);
#endif
#ifdef LABELS1
    color = blendLabels(color, u_labels1, u_labelColors1, u_fragToLabels1, u_labelOpacity1, kOutline1);
#endif
#ifdef LABELS2
    color = blendLabels(color, u_labels2, u_labelColors2, u_fragToLabels2, u_labelOpacity2, kOutline2);
#endif
    o_color = vec4(color, 1.0);
}
