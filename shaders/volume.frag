#version 330 core
// GPU ray casting of the study: composite through a transfer function (or maximum intensity),
// the explanation map fused along the ray, segmentation labels drawn as shaded shells, the
// picked structure highlighted, and clipping at the crosshair planes. Features that are off
// are compiled out (MIP, HAS_MAP, HAS_CERTAINTY, HAS_LABELS, HAS_SELECTION): a software
// rasteriser runs both sides of every branch on every step of every ray. Every fetch names level 0
// (textureLod): derivatives inside the ray loop are undefined, and cost a software rasteriser.
uniform mat4 u_fragToWorldNear;  // gl_FragCoord -> world point on the near plane (homogeneous)
uniform mat4 u_fragToWorldFar;   // ... on the far plane

uniform sampler3D u_image;
uniform mat4 u_worldToImage;     // world -> image texture coordinates
uniform vec3 u_imageDims;
uniform vec2 u_imageRange;       // values mapped to the transfer function's 0..1
uniform sampler2D u_transfer;    // one row: RGBA per normalised value (alpha per voxel step)
uniform float u_stepScale;       // 1: one voxel per step; larger while the mouse moves

uniform sampler3D u_map;
uniform mat4 u_worldToMap;
uniform sampler2D u_colormaps;
uniform float u_colormapRow;
uniform int u_mapSigned;
uniform vec2 u_mapExtent;   // unsigned: (high, high); signed: (negative extent, positive extent)
uniform float u_mapThreshold;
uniform float u_mapOpacity;
uniform sampler3D u_certainty;   // HAS_CERTAINTY: scales the map's opacity (0..1)
uniform mat4 u_worldToCertainty;

uniform sampler3D u_labels;
uniform mat4 u_worldToLabels;
uniform sampler2D u_labelColors;
uniform sampler3D u_labelNormals;   // render/shell_normals.h, same grid as the labels
uniform float u_labelOpacity;

uniform sampler3D u_selection;
uniform mat4 u_worldToSelection;  // its own grid: the picked structure's bounding box
uniform vec3 u_selectionColour;

uniform vec3 u_clipPoint;        // world
uniform ivec3 u_clipAxes;        // 1: keep the side of the plane below the point, -1: above it
uniform vec3 u_lightDirection;   // world, towards the light
uniform vec3 u_background;

out vec4 o_color;

uint labelAt(sampler3D labels, mat4 worldToTexture, vec3 world) {
    vec3 t = (worldToTexture * vec4(world, 1.0)).xyz;
    if (any(lessThan(t, vec3(0.0))) || any(greaterThan(t, vec3(1.0)))) return 0u;
    return uint(textureLod(labels, t, 0.0).r * 65535.0 + 0.5);
}

// Outward normal of the label shell at a world point (voxel axes; the light is a headlight,
// so only |n . l| matters and axis flips do not).
vec3 shellNormal(vec3 world) {
    vec4 n = textureLod(u_labelNormals, (u_worldToLabels * vec4(world, 1.0)).xyz, 0.0);
    vec3 v = n.xyz * 2.0 - 1.0;
    float l = length(v);
    return l > 0.05 ? v / l : vec3(0.0);
}

float hottest = 0.0; // the map's largest colour-map position along the ray

vec4 mapColor(vec3 world) {
    vec3 t = (u_worldToMap * vec4(world, 1.0)).xyz;
    if (any(lessThan(t, vec3(0.0))) || any(greaterThan(t, vec3(1.0)))) return vec4(0.0);
    float v = textureLod(u_map, t, 0.0).r;
    if (abs(v) < u_mapThreshold || isnan(v)) return vec4(0.0);
    float extent = v >= 0.0 ? u_mapExtent.y : u_mapExtent.x;
    float strength = clamp(abs(v) / extent, 0.0, 1.0);
    float s = u_mapSigned != 0 ? 0.5 + 0.5 * sign(v) * strength : clamp(v / extent, 0.0, 1.0);
    if (abs(s - (u_mapSigned != 0 ? 0.5 : 0.0)) > abs(hottest - (u_mapSigned != 0 ? 0.5 : 0.0))) hottest = s;
    vec3 c = textureLod(u_colormaps, vec2(s * (255.0 / 256.0) + 0.5 / 256.0, u_colormapRow), 0.0).rgb;
    float opacity = u_mapOpacity * strength;
#ifdef HAS_CERTAINTY
    vec3 tc = (u_worldToCertainty * vec4(world, 1.0)).xyz;
    bool within = all(greaterThanEqual(tc, vec3(0.0))) && all(lessThanEqual(tc, vec3(1.0)));
    opacity *= within ? clamp(textureLod(u_certainty, tc, 0.0).r, 0.0, 1.0) : 0.0;
#endif
    return vec4(c, opacity);
}

void main() {
    vec4 nearH = u_fragToWorldNear * vec4(gl_FragCoord.xy, 0.0, 1.0);
    vec4 farH = u_fragToWorldFar * vec4(gl_FragCoord.xy, 0.0, 1.0);
    vec3 origin = nearH.xyz / nearH.w;
    vec3 direction = farH.xyz / farH.w - origin;

    // Intersect the ray with the image's box in texture space.
    vec3 o = (u_worldToImage * vec4(origin, 1.0)).xyz;
    vec3 d = (u_worldToImage * vec4(direction, 0.0)).xyz;
    vec3 inv = 1.0 / d;
    vec3 t0 = (vec3(0.0) - o) * inv, t1 = (vec3(1.0) - o) * inv;
    float tNear = max(max(min(t0.x, t1.x), min(t0.y, t1.y)), min(t0.z, t1.z));
    float tFar = min(min(max(t0.x, t1.x), max(t0.y, t1.y)), max(t0.z, t1.z));
    tNear = max(tNear, 0.0);
    // Clipping at planes through a point: keep the part below (1) or above (-1) each one.
    for (int a = 0; a < 3; ++a) {
        if (u_clipAxes[a] == 0) continue;
        float t = (u_clipPoint[a] - origin[a]) / direction[a];
        if ((direction[a] > 0.0) == (u_clipAxes[a] > 0)) tFar = min(tFar, t); else tNear = max(tNear, t);
    }
    if (tNear >= tFar) {
        o_color = vec4(u_background, 1.0);
        return;
    }
    // One voxel per step along the ray, in world units.
    float voxel = 1.0 / max(max(u_imageDims.x, u_imageDims.y), u_imageDims.z);
    float rayLength = length(d);
    float dt = voxel * u_stepScale / rayLength;
    vec4 accumulated = vec4(0.0);
    hottest = u_mapSigned != 0 ? 0.5 : 0.0; // a signed map's zero is the middle of its colour map
    // The map glows through the tissue: it accumulates on its own and is laid over the
    // tissue's picture at the end, so an attribution deep inside stays visible.
    vec4 glow = vec4(0.0);
    float maximum = 0.0;
    vec4 maxMap = vec4(0.0);
    uint previousLabel = 0u;
    for (float t = tNear; t < tFar; t += dt) {
        vec3 world = origin + t * direction;
        vec3 tex = o + t * d;
        float value = clamp((textureLod(u_image, tex, 0.0).r - u_imageRange.x) / max(u_imageRange.y - u_imageRange.x, 1e-20), 0.0, 1.0);
#ifdef MIP
        maximum = max(maximum, value);
#ifdef HAS_MAP
        vec4 m = mapColor(world);
        if (m.a > maxMap.a) maxMap = m;
#endif
#else
        vec4 sampleColor = textureLod(u_transfer, vec2(value * (255.0 / 256.0) + 0.5 / 256.0, 0.5), 0.0);
        sampleColor.a = 1.0 - pow(1.0 - sampleColor.a, u_stepScale); // opacity for the step length
#ifdef HAS_MAP
        if (glow.a < 0.98) {
            vec4 m = mapColor(world);
            if (m.a > 0.0) {
                float a = 1.0 - pow(1.0 - m.a, u_stepScale);
                glow.rgb += (1.0 - glow.a) * a * m.rgb;
                glow.a += (1.0 - glow.a) * a;
            }
        }
#endif
#ifdef HAS_LABELS
        uint label = labelAt(u_labels, u_worldToLabels, world);
        if (label != 0u && label != previousLabel) {
            vec4 lc = texelFetch(u_labelColors, ivec2(min(int(label), textureSize(u_labelColors, 0).x - 1), 0), 0);
            if (lc.a > 0.0) {
                float light = 0.35 + 0.65 * abs(dot(shellNormal(world), u_lightDirection));
                vec3 shell = lc.rgb * light;
#ifdef HAS_SELECTION
                if (labelAt(u_selection, u_worldToSelection, world) != 0u) shell = u_selectionColour * light;
#endif
                sampleColor = vec4(mix(sampleColor.rgb, shell, u_labelOpacity), max(sampleColor.a, u_labelOpacity));
            }
        }
        previousLabel = label;
#endif
        accumulated.rgb += (1.0 - accumulated.a) * sampleColor.a * sampleColor.rgb;
        accumulated.a += (1.0 - accumulated.a) * sampleColor.a;
#ifdef HAS_MAP
        if (accumulated.a > 0.98 && glow.a > 0.98) break;
#else
        if (accumulated.a > 0.98) break;
#endif
#endif
    }
#ifdef MIP
    o_color = vec4(mix(vec3(maximum), maxMap.rgb, maxMap.a), 1.0);
    return;
#endif
    vec3 tissue = accumulated.rgb + (1.0 - accumulated.a) * u_background;
    // The glow takes the colour of the hottest value along the ray, its opacity from the sum.
    vec3 glowColor = textureLod(u_colormaps, vec2(hottest * (255.0 / 256.0) + 0.5 / 256.0, u_colormapRow), 0.0).rgb;
    o_color = vec4(mix(tissue, glowColor, glow.a), 1.0);
}
