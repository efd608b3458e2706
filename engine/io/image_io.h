#pragma once
#include "engine/core/volume.h"
#include "engine/io/image_paths.h"
#include "engine/io/study.h"

#include <string>
#include <vector>

namespace segxai {

class JobContext;

// What a file's header says, read without loading voxels.
struct ImageHeader {
    std::string path;
    std::string format;    // "NIfTI", "NRRD", "MetaImage", "DICOM"
    std::string pixelType; // "float", "int16", ...
    int dimensions = 3;    // as stored (2 is read as one slice; more than 3 is refused)
    int components = 1;
    std::vector<int64_t> size; // as stored, all dimensions
    Geometry geometry;         // the 3D grid
};

struct DicomSeries {
    std::string uid;
    std::string description;
    size_t sliceCount = 0;
    std::string number;   // SeriesNumber ("" when absent)
    std::string modality; // "MR", "CT", ...
    int rows = 0, columns = 0;
    double pixelSpacingMm = 0.0, sliceThicknessMm = 0.0; // 0 when absent
    // "3 - MR - t1_mprage - 256 x 256 x 176, 1 x 1 x 1 mm" for a chooser.
    std::string summary() const;
};

// Largest volume SegXAI reads, checked from the header before any allocation.
constexpr size_t kMaxVoxels = size_t(1) << 31;

// Registers ITK's NIfTI, NRRD, MetaImage and DICOM readers and writers (idempotent; the
// functions below call it themselves).
void registerImageFormats();

// Each of these throws segxai::Error naming the file and what is wrong: missing, unsupported
// type, unreadable, 4D where 3D is needed, vector pixels, too large, invalid geometry.
ImageHeader readImageHeader(const std::string& path, const std::string& dicomSeries = {});
// NIfTI files whose qform and sform disagree are placed by the sform (as nibabel, FSL and
// MONAI do, so SegXAI sees what a Python pipeline saw), with a note in `warnings`.
Volume readVolume(const std::string& path, const std::string& dicomSeries = {}, JobContext* job = nullptr,
                  std::vector<std::string>* warnings = nullptr);
// Label maps must hold integer values in 0..65535.
LabelVolume readLabelVolume(const std::string& path, JobContext* job = nullptr,
                            std::vector<std::string>* warnings = nullptr);
std::vector<DicomSeries> listDicomSeries(const std::string& directory);

// Writes NIfTI/NRRD/MetaImage by extension, atomically (temporary name, then rename), so
// a failure leaves no partial file. Refuses to overwrite any path in `protectedPaths`.
void writeVolume(const Volume& volume, const std::string& path, const std::vector<std::string>& protectedPaths = {});
// A CT in Hounsfield units as int16 voxels (as scanners store it), atomically like writeVolume.
void writeInt16Volume(const Geometry& geometry, const std::vector<int16_t>& voxels, const std::string& path,
                      const std::vector<std::string>& protectedPaths = {});
void writeLabelVolume(const LabelVolume& labels, const std::string& path,
                      const std::vector<std::string>& protectedPaths = {});

} // namespace segxai
