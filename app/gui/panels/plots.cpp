#include "app/gui/panels/plots.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai::app::plots {
namespace {

const ImU32 kText = IM_COL32(220, 220, 210, 255);
const ImU32 kDim = IM_COL32(150, 150, 145, 255);
const ImU32 kFrame = IM_COL32(90, 90, 95, 255);
const ImU32 kBackground = IM_COL32(22, 22, 26, 255);
const ImU32 kPositive = IM_COL32(215, 60, 50, 255);
const ImU32 kNegative = IM_COL32(60, 100, 220, 255);

// Reserves the plot's rectangle at the cursor and paints its background.
Rect reserve(const char* id, ImVec2 size) {
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton(id, size);
    const Rect r{origin, ImVec2(origin.x + size.x, origin.y + size.y)};
    ImGui::GetWindowDrawList()->AddRectFilled(r.min, r.max, kBackground);
    return r;
}

std::string tick(double v) {
    return fmt::format("{:.3g}", v);
}

} // namespace

Quartiles quartiles(std::vector<double> v) {
    Quartiles q;
    if (v.empty()) return q;
    std::sort(v.begin(), v.end());
    auto at = [&](double p) {
        const double position = p * double(v.size() - 1);
        const size_t below = size_t(std::floor(position));
        const size_t above = std::min(v.size() - 1, below + 1);
        return v[below] + (v[above] - v[below]) * (position - double(below));
    };
    q.q1 = at(0.25);
    q.median = at(0.5);
    q.q3 = at(0.75);
    const double reach = 1.5 * (q.q3 - q.q1);
    q.low = q.q1;
    q.high = q.q3;
    for (double x : v) {
        if (x >= q.q1 - reach) q.low = std::min(q.low, x);
        if (x <= q.q3 + reach) q.high = std::max(q.high, x);
    }
    return q;
}

Rect rings(const char* id, const RingProfile& profile, ImVec2 size) {
    const Rect r = reserve(id, size);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    const size_t regions = profile.regions.size();
    if (regions == 0) return r;
    const float labelWidth = fs * 4.2f, barsWidth = size.x * 0.28f, pad = fs * 0.4f;
    const float top = r.min.y + fs * 1.4f, bottom = r.max.y - fs * 1.5f;
    const float rowHeight = (bottom - top) / float(regions);
    const float histLeft = r.min.x + labelWidth, histRight = r.max.x - barsWidth - pad;
    const float barsLeft = histRight + pad * 2.0f, barsRight = r.max.x - pad;
    const std::string range = fmt::format("-{}", tick(profile.limit)),
                      positiveEnd = fmt::format("+{}", tick(profile.limit));
    draw->AddText(ImVec2(histLeft, r.min.y + 2.0f), kDim, range.c_str());
    draw->AddText(ImVec2(histRight - ImGui::CalcTextSize(positiveEnd.c_str()).x, r.min.y + 2.0f), kDim,
                  positiveEnd.c_str());
    draw->AddText(ImVec2(barsLeft, r.min.y + 2.0f), kDim, "- share +");
    for (size_t n = 0; n < regions; ++n) {
        const RingRegion& region = profile.regions[n];
        const float y0 = top + rowHeight * float(n), y1 = y0 + rowHeight - 2.0f;
        draw->AddText(ImVec2(r.min.x + pad, y0 + (rowHeight - fs) * 0.5f), kText, region.name.c_str());
        const size_t bins = region.histogram.size();
        const int64_t most = bins ? *std::max_element(region.histogram.begin(), region.histogram.end()) : 0;
        for (size_t b = 0; b < bins && most > 0; ++b) {
            const float x0 = histLeft + (histRight - histLeft) * float(b) / float(bins);
            const float x1 = histLeft + (histRight - histLeft) * float(b + 1) / float(bins);
            const float t = float(region.histogram[b]) / float(most);
            const bool negative = float(b) + 0.5f < float(bins) * 0.5f;
            const ImVec4 c = negative ? ImVec4(0.24f, 0.39f, 0.86f, t) : ImVec4(0.84f, 0.24f, 0.2f, t);
            draw->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y1), ImGui::ColorConvertFloat4ToU32(c));
        }
        draw->AddRect(ImVec2(histLeft, y0), ImVec2(histRight, y1), kFrame);
        const float middle = 0.5f * (barsLeft + barsRight), half = 0.5f * (barsRight - barsLeft);
        draw->AddRectFilled(ImVec2(middle - half * float(region.shareNegative), y0 + 2.0f), ImVec2(middle, y1 - 2.0f),
                            kNegative);
        draw->AddRectFilled(ImVec2(middle, y0 + 2.0f), ImVec2(middle + half * float(region.sharePositive), y1 - 2.0f),
                            kPositive);
        draw->AddLine(ImVec2(middle, y0), ImVec2(middle, y1), kFrame);
    }
    const float zero = 0.5f * (histLeft + histRight);
    draw->AddLine(ImVec2(zero, top), ImVec2(zero, bottom), kDim);
    draw->AddText(ImVec2(histLeft, bottom + 2.0f), kDim, "inside the lesion, then rings by distance (mm)");
    return r;
}

Rect contextCurve(const char* id, const ContextCurve& curve, double threshold, ImVec2 size) {
    const Rect r = reserve(id, size);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    const ImVec2 a(r.min.x + fs * 2.2f, r.min.y + fs * 0.6f), b(r.max.x - fs * 0.8f, r.max.y - fs * 2.6f);
    draw->AddRect(a, b, kFrame);
    if (curve.points.empty()) return r;
    const double xMax = std::max(1e-9, curve.points.back().mm);
    auto at = [&](double x, double y) {
        return ImVec2(a.x + float(x / xMax) * (b.x - a.x), b.y - float(std::clamp(y, 0.0, 1.0)) * (b.y - a.y));
    };
    // Threshold, dashed.
    for (float x = a.x; x < b.x; x += 8.0f) {
        const float y = at(0.0, threshold).y;
        draw->AddLine(ImVec2(x, y), ImVec2(std::min(b.x, x + 4.0f), y), kDim);
    }
    if (curve.sufficientMm) {
        const float x = at(*curve.sufficientMm, 0.0).x;
        draw->AddLine(ImVec2(x, a.y), ImVec2(x, b.y), IM_COL32(90, 200, 110, 200), 1.5f);
        draw->AddText(ImVec2(x + 3.0f, b.y - fs - 2.0f), IM_COL32(90, 200, 110, 255),
                      fmt::format("enough: {:g} mm", *curve.sufficientMm).c_str());
    }
    for (size_t n = 1; n < curve.points.size(); ++n) {
        draw->AddLine(at(curve.points[n - 1].mm, curve.points[n - 1].meanProbability),
                      at(curve.points[n].mm, curve.points[n].meanProbability), kText, 1.5f);
    }
    for (const ContextPoint& p : curve.points) {
        const ImVec2 c = at(p.mm, p.meanProbability);
        if (p.detected) {
            draw->AddCircleFilled(c, 3.5f, IM_COL32(90, 200, 110, 255));
        } else {
            draw->AddCircle(c, 3.5f, IM_COL32(230, 120, 90, 255), 0, 1.5f);
        }
    }
    draw->AddText(ImVec2(r.min.x + 2.0f, a.y - 2.0f), kDim, "1");
    draw->AddText(ImVec2(r.min.x + 2.0f, b.y - fs), kDim, "0");
    draw->AddText(ImVec2(a.x, b.y + 2.0f), kDim, "0");
    const std::string end = fmt::format("{:g} mm", xMax);
    draw->AddText(ImVec2(b.x - ImGui::CalcTextSize(end.c_str()).x, b.y + 2.0f), kDim, end.c_str());
    draw->AddText(ImVec2(a.x, b.y + fs * 1.2f), kDim, "mean p in the lesion vs context kept (mm)");
    return r;
}

Rect boxPlot(const char* id, const std::map<std::string, std::vector<double>>& groups, const char* label, ImVec2 size) {
    const Rect r = reserve(id, size);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    double low = 0.0, high = 0.0;
    bool any = false;
    for (const auto& [name, v] : groups) {
        for (double x : v) {
            low = any ? std::min(low, x) : x;
            high = any ? std::max(high, x) : x;
            any = true;
        }
    }
    if (!any) {
        draw->AddText(ImVec2(r.min.x + fs, r.min.y + fs), kDim, "no values");
        return r;
    }
    if (high - low < 1e-12) {
        low -= 1.0;
        high += 1.0;
    }
    const double margin = 0.05 * (high - low);
    low -= margin;
    high += margin;
    const ImVec2 a(r.min.x + fs * 3.5f, r.min.y + fs * 0.6f), b(r.max.x - fs * 0.6f, r.max.y - fs * 2.6f);
    draw->AddRect(a, b, kFrame);
    auto y = [&](double v) { return b.y - float((v - low) / (high - low)) * (b.y - a.y); };
    if (low < 0.0 && high > 0.0) draw->AddLine(ImVec2(a.x, y(0.0)), ImVec2(b.x, y(0.0)), kDim);
    draw->AddText(ImVec2(r.min.x + 2.0f, a.y - 2.0f), kDim, tick(high).c_str());
    draw->AddText(ImVec2(r.min.x + 2.0f, b.y - fs), kDim, tick(low).c_str());
    const float slot = (b.x - a.x) / float(std::max<size_t>(1, groups.size()));
    size_t n = 0;
    for (const auto& [name, values] : groups) {
        const float centre = a.x + slot * (float(n) + 0.5f), half = slot * 0.25f;
        const ImU32 colour = name == "TP"   ? IM_COL32(90, 200, 110, 255)
                             : name == "FP" ? IM_COL32(230, 160, 60, 255)
                                            : IM_COL32(150, 130, 230, 255);
        if (!values.empty()) {
            const Quartiles q = quartiles(values);
            draw->AddLine(ImVec2(centre, y(q.low)), ImVec2(centre, y(q.q1)), colour);
            draw->AddLine(ImVec2(centre, y(q.q3)), ImVec2(centre, y(q.high)), colour);
            draw->AddRect(ImVec2(centre - half, y(q.q3)), ImVec2(centre + half, y(q.q1)), colour, 0.0f, 0, 1.5f);
            draw->AddLine(ImVec2(centre - half, y(q.median)), ImVec2(centre + half, y(q.median)), colour, 2.5f);
            for (size_t k = 0; k < values.size(); ++k) {
                const float jitter = (float((k * 37) % 11) / 10.0f - 0.5f) * half * 1.4f;
                draw->AddCircleFilled(ImVec2(centre + jitter, y(values[k])), 2.0f, IM_COL32(230, 230, 230, 160));
            }
        }
        const std::string caption = fmt::format("{} ({})", name, values.size());
        draw->AddText(ImVec2(centre - ImGui::CalcTextSize(caption.c_str()).x * 0.5f, b.y + 2.0f), kText,
                      caption.c_str());
        ++n;
    }
    draw->AddText(ImVec2(a.x, b.y + fs * 1.2f), kDim, label);
    return r;
}

ImU32 seriesColour(size_t n) {
    static const ImU32 colours[] = {IM_COL32(90, 200, 110, 255),  IM_COL32(230, 160, 60, 255),
                                    IM_COL32(150, 130, 230, 255), IM_COL32(90, 170, 240, 255),
                                    IM_COL32(230, 90, 110, 255),  IM_COL32(220, 220, 90, 255),
                                    IM_COL32(120, 220, 220, 255), IM_COL32(200, 130, 200, 255)};
    return colours[n % (sizeof colours / sizeof colours[0])];
}

Rect bars(const char* id, const std::vector<std::string>& labels, const std::vector<double>& means,
          const std::vector<double>& sds, const char* label, ImVec2 size) {
    const Rect r = reserve(id, size);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    if (means.empty()) return r;
    double low = 0.0, high = 0.0;
    for (size_t n = 0; n < means.size(); ++n) {
        const double sd = n < sds.size() && std::isfinite(sds[n]) ? sds[n] : 0.0;
        if (!std::isfinite(means[n])) continue;
        low = std::min(low, means[n] - sd);
        high = std::max(high, means[n] + sd);
    }
    if (high - low < 1e-12) high = low + 1.0;
    const float labelHeight = fs * 1.2f;
    const ImVec2 a(r.min.x + fs * 2.8f, r.min.y + fs * 0.6f),
        b(r.max.x - fs * 0.4f, r.max.y - labelHeight * 2.0f - fs * 1.2f);
    draw->AddRect(a, b, kFrame);
    auto y = [&](double v) { return b.y - float((v - low) / (high - low)) * (b.y - a.y); };
    draw->AddLine(ImVec2(a.x, y(0.0)), ImVec2(b.x, y(0.0)), kDim);
    draw->AddText(ImVec2(r.min.x + 2.0f, a.y - 2.0f), kDim, tick(high).c_str());
    draw->AddText(ImVec2(r.min.x + 2.0f, b.y - fs), kDim, tick(low).c_str());
    const float slot = (b.x - a.x) / float(means.size()), half = slot * 0.32f;
    for (size_t n = 0; n < means.size(); ++n) {
        const float centre = a.x + slot * (float(n) + 0.5f);
        if (std::isfinite(means[n])) {
            draw->AddRectFilled(ImVec2(centre - half, std::min(y(0.0), y(means[n]))),
                                ImVec2(centre + half, std::max(y(0.0), y(means[n]))), seriesColour(n));
            const double sd = n < sds.size() && std::isfinite(sds[n]) ? sds[n] : 0.0;
            draw->AddLine(ImVec2(centre, y(means[n] - sd)), ImVec2(centre, y(means[n] + sd)), kText, 1.5f);
            draw->AddLine(ImVec2(centre - half * 0.5f, y(means[n] - sd)),
                          ImVec2(centre + half * 0.5f, y(means[n] - sd)), kText);
            draw->AddLine(ImVec2(centre - half * 0.5f, y(means[n] + sd)),
                          ImVec2(centre + half * 0.5f, y(means[n] + sd)), kText);
        }
        // Labels on two alternating rows, so long method names do not overlap.
        const std::string text = n < labels.size() ? labels[n] : std::string();
        const float row = b.y + 2.0f + float(n % 2) * labelHeight;
        draw->AddText(ImVec2(centre - ImGui::CalcTextSize(text.c_str()).x * 0.5f, row), seriesColour(n), text.c_str());
    }
    draw->AddText(ImVec2(a.x, r.max.y - fs * 1.2f), kDim, label);
    return r;
}

Rect lines(const char* id, const std::vector<Series>& series, const char* label, ImVec2 size) {
    const Rect r = reserve(id, size);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    double xLow = 0.0, xHigh = 1.0, yLow = 0.0, yHigh = 1.0;
    bool any = false;
    for (const Series& s : series) {
        for (size_t n = 0; n < s.x.size() && n < s.y.size(); ++n) {
            if (!std::isfinite(s.y[n])) continue;
            if (!any) {
                xLow = xHigh = s.x[n];
                yLow = std::min(0.0, s.y[n]);
                yHigh = std::max(1.0, s.y[n]);
                any = true;
            }
            xLow = std::min(xLow, s.x[n]);
            xHigh = std::max(xHigh, s.x[n]);
            yLow = std::min(yLow, s.y[n]);
            yHigh = std::max(yHigh, s.y[n]);
        }
    }
    if (xHigh - xLow < 1e-12) xHigh = xLow + 1.0;
    const float legendHeight = fs * 1.15f * float((series.size() + 1) / 2);
    const ImVec2 a(r.min.x + fs * 2.4f, r.min.y + fs * 0.6f),
        b(r.max.x - fs * 0.5f, r.max.y - fs * 2.6f - legendHeight);
    draw->AddRect(a, b, kFrame);
    auto at = [&](double x, double y) {
        return ImVec2(a.x + float((x - xLow) / (xHigh - xLow)) * (b.x - a.x),
                      b.y - float((y - yLow) / (yHigh - yLow)) * (b.y - a.y));
    };
    if (yLow < 0.0) draw->AddLine(at(xLow, 0.0), at(xHigh, 0.0), kDim);
    for (size_t k = 0; k < series.size(); ++k) {
        const Series& s = series[k];
        for (size_t n = 1; n < s.x.size() && n < s.y.size(); ++n) {
            if (std::isfinite(s.y[n]) && std::isfinite(s.y[n - 1]))
                draw->AddLine(at(s.x[n - 1], s.y[n - 1]), at(s.x[n], s.y[n]), seriesColour(k), 1.5f);
        }
        const float column = (r.max.x - r.min.x) * 0.5f * float(k % 2);
        const ImVec2 p(r.min.x + fs * 0.4f + column, b.y + fs * 1.3f + fs * 1.15f * float(k / 2));
        draw->AddRectFilled(ImVec2(p.x, p.y + fs * 0.35f), ImVec2(p.x + fs * 0.8f, p.y + fs * 0.65f), seriesColour(k));
        draw->AddText(ImVec2(p.x + fs, p.y), kText, s.name.c_str());
    }
    draw->AddText(ImVec2(r.min.x + 2.0f, a.y - 2.0f), kDim, tick(yHigh).c_str());
    draw->AddText(ImVec2(r.min.x + 2.0f, b.y - fs), kDim, tick(yLow).c_str());
    draw->AddText(ImVec2(a.x, b.y + 2.0f), kDim, label);
    return r;
}

} // namespace segxai::app::plots
