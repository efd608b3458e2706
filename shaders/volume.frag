#version 330 core
// GPU ray casting of the study: composite through a transfer function (or maximum intensity),
// the explanation map fused along the ray, segmentation labels drawn as shaded shells, the
// picked structure highlighted, and clipping at the crosshair planes.
uniform mat4 u_fragToWorldNear;  // gl_FragCoord -> world point on the near plane (homogeneous)
uniform mat4 u_fragToWorldFar;   // ... on the far plane

uniform sampler3D u_image;
uniform mat4 u_worldToImage;     // world -> image texture coordinates
uniform vec3 u_imageDims;
uniform vec2 u_imageRange;       // values mapped to the transfer function's 0..1
uniform sampler2D u_transfer;    // one row: RGBA per normalised value (alpha per voxel step)
uniform int u_mip;
uniform float u_stepScale;       // 1: one voxel per step; larger while the mouse moves

uniform sampler3D u_map;
uniform mat4 u_worldToMap;
uniform int u_hasMap;
uniform sampler2D u_colormaps;
uniform float u_colormapRow;
uniform int u_mapSigned;
uniform vec2 u_mapExtent;   // unsigned: (high, high); signed: (negative extent, positive extent)
uniform float u_mapThreshold;
uniform float u_mapOpacity;

uniform usampler3D u_labels;
uniform mat4 u_worldToLabels;
uniform ivec3 u_labelDims;
uniform sampler2D u_labelColors;
uniform int u_hasLabels;
uniform float u_labelOpacity;

uniform usampler3D u_selection;
uniform int u_hasSelection;

uniform vec3 u_clipPoint;        // world
uniform ivec3 u_clipAxes;        // 1: keep only the side of the plane below the crosshair
uniform vec3 u_lightDirection;   // world, towards the light
uniform vec3 u_background;

out vec4 o_color;

uint labelAt(usampler3D labels, mat4 worldToTexture, vec3 world) {
    vec3 t = (worldToTexture * vec4(world, 1.0)).xyz;
    if (any(lessThan(t, vec3(0.0))) || any(greaterThan(t, vec3(1.0)))) return 0u;
    ivec3 v = clamp(ivec3(floor(t * vec3(u_labelDims))), ivec3(0), u_labelDims - 1);
    return texelFetch(labels, v, 0).r;
}

// Normal of a label's shell from the label field around a world point.
vec3 shellNormal(vec3 world, uint label, float h) {
    vec3 g;
    g.x = float(labelAt(u_labels, u_worldToLabels, world + vec3(h, 0, 0)) == label) - float(labelAt(u_labels, u_worldToLabels, world - vec3(h, 0, 0)) == label);
    g.y = float(labelAt(u_labels, u_worldToLabels, world + vec3(0, h, 0)) == label) - float(labelAt(u_labels, u_worldToLabels, world - vec3(0, h, 0)) == label);
    g.z = float(labelAt(u_labels, u_worldToLabels, world + vec3(0, 0, h)) == label) - float(labelAt(u_labels, u_worldToLabels, world - vec3(0, 0, h)) == label);
    float l = length(g);
    return l > 0.0 ? -g / l : vec3(0.0);
}

float hottest = 0.0; // the map's largest colour-map position along the ray

vec4 mapColor(vec3 world) {
    vec3 t = (u_worldToMap * vec4(world, 1.0)).xyz;
    if (any(lessThan(t, vec3(0.0))) || any(greaterThan(t, vec3(1.0)))) return vec4(0.0);
    float v = texture(u_map, t).r;
    if (abs(v) < u_mapThreshold || isnan(v)) return vec4(0.0);
    float extent = v >= 0.0 ? u_mapExtent.y : u_mapExtent.x;
    float strength = clamp(abs(v) / extent, 0.0, 1.0);
    float s = u_mapSigned != 0 ? 0.5 + 0.5 * sign(v) * strength : clamp(v / extent, 0.0, 1.0);
    if (abs(s - (u_mapSigned != 0 ? 0.5 : 0.0)) > abs(hottest - (u_mapSigned != 0 ? 0.5 : 0.0))) hottest = s;
    vec3 c = texture(u_colormaps, vec2(s * (255.0 / 256.0) + 0.5 / 256.0, u_colormapRow)).rgb;
    return vec4(c, u_mapOpacity * strength);
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
    // Clipping at the crosshair planes: keep the part below each chosen world plane.
    for (int a = 0; a < 3; ++a) {
        if (u_clipAxes[a] == 0) continue;
        float t = (u_clipPoint[a] - origin[a]) / direction[a];
        if (direction[a] > 0.0) tFar = min(tFar, t); else tNear = max(tNear, t);
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
    float shellStep = length(direction) * dt * 0.5;
    for (float t = tNear; t < tFar; t += dt) {
        vec3 world = origin + t * direction;
        vec3 tex = o + t * d;
        float value = clamp((texture(u_image, tex).r - u_imageRange.x) / max(u_imageRange.y - u_imageRange.x, 1e-20), 0.0, 1.0);
        if (u_mip != 0) {
            maximum = max(maximum, value);
            if (u_hasMap != 0) {
                vec4 m = mapColor(world);
                if (m.a > maxMap.a) maxMap = m;
            }
            continue;
        }
        vec4 sampleColor = texture(u_transfer, vec2(value * (255.0 / 256.0) + 0.5 / 256.0, 0.5));
        sampleColor.a = 1.0 - pow(1.0 - sampleColor.a, u_stepScale); // opacity for the step length
        if (u_hasMap != 0 && glow.a < 0.98) {
            vec4 m = mapColor(world);
            if (m.a > 0.0) {
                float a = 1.0 - pow(1.0 - m.a, u_stepScale);
                glow.rgb += (1.0 - glow.a) * a * m.rgb;
                glow.a += (1.0 - glow.a) * a;
            }
        }
        if (u_hasLabels != 0) {
            uint label = labelAt(u_labels, u_worldToLabels, world);
            if (label != 0u && label != previousLabel) {
                vec4 lc = texelFetch(u_labelColors, ivec2(min(int(label), textureSize(u_labelColors, 0).x - 1), 0), 0);
                if (lc.a > 0.0) {
                    vec3 n = shellNormal(world, label, shellStep * 2.0);
                    float light = 0.35 + 0.65 * abs(dot(n, u_lightDirection));
                    vec3 shell = lc.rgb * light;
                    if (u_hasSelection != 0 && labelAt(u_selection, u_worldToLabels, world) != 0u) shell = vec3(1.0, 0.94, 0.24) * light;
                    sampleColor = vec4(mix(sampleColor.rgb, shell, u_labelOpacity), max(sampleColor.a, u_labelOpacity));
                }
            }
            previousLabel = label;
        }
        accumulated.rgb += (1.0 - accumulated.a) * sampleColor.a * sampleColor.rgb;
        accumulated.a += (1.0 - accumulated.a) * sampleColor.a;
        if (accumulated.a > 0.98 && (u_hasMap == 0 || glow.a > 0.98)) break;
    }
    if (u_mip != 0) {
        vec3 grey = vec3(maximum);
        o_color = vec4(mix(grey, maxMap.rgb, maxMap.a), 1.0);
        return;
    }
    vec3 tissue = accumulated.rgb + (1.0 - accumulated.a) * u_background;
    // The glow takes the colour of the hottest value along the ray, its opacity from the sum.
    vec3 glowColor = texture(u_colormaps, vec2(hottest * (255.0 / 256.0) + 0.5 / 256.0, u_colormapRow)).rgb;
    o_color = vec4(mix(tissue, glowColor, glow.a), 1.0);
}
