#pragma once
// IEEE 754 half precision (binary16) conversions, rounding to nearest even as LibTorch's
// c10::Half does: nnU-Net accumulates logits in float16, and SegXAI keeps them that way.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace segxai {

inline float halfToFloat(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    uint32_t bits = 0;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else { // subnormal: value = mantissa * 2^-24, exact in float
            const float value = float(mantissa) * 5.9604644775390625e-8f;
            std::memcpy(&bits, &value, sizeof bits);
            bits |= sign;
        }
    } else if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float out = 0.0f;
    std::memcpy(&out, &bits, sizeof out);
    return out;
}

inline uint16_t floatToHalf(float f) {
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
    if (magnitude >= 0x477ff000u) return uint16_t(sign | 0x7c00u); // rounds to infinity (>= 65520)
    if (magnitude < 0x38800000u) { // below the smallest normal half: a subnormal, rounded to even
        float absolute = 0.0f;
        std::memcpy(&absolute, &magnitude, sizeof absolute);
        // Adding 0.5 moves the value's bits so that float's own rounding rounds to 2^-24 units.
        const float shifted = absolute + 0.5f;
        uint32_t s = 0;
        std::memcpy(&s, &shifted, sizeof s);
        return uint16_t(sign | uint16_t(s - 0x3f000000u));
    }
    const uint32_t oddMantissa = (magnitude >> 13) & 1u;
    const uint32_t rounded = magnitude + 0xc8000fffu + oddMantissa; // rebias the exponent, round to even
    return uint16_t(sign | uint16_t(rounded >> 13));
}

// A double rounded once to half precision, as numpy's astype(float16) does. Rounding to float
// first and then to half can round twice across a tie, so the float is rounded to odd (its last
// bit set when inexact), which keeps the second rounding exact.
inline uint16_t doubleToHalf(double d) {
    float f = float(d);
    if (double(f) != d && std::isfinite(d)) {
        if (std::abs(double(f)) > std::abs(d)) f = std::nextafter(f, 0.0f);
        uint32_t bits = 0;
        std::memcpy(&bits, &f, sizeof bits);
        bits |= 1u;
        std::memcpy(&f, &bits, sizeof f);
    }
    return floatToHalf(f);
}

// The float a float rounds to in half precision.
inline float roundToHalf(float f) {
    return halfToFloat(floatToHalf(f));
}

} // namespace segxai
