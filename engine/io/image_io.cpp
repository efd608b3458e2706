#include "engine/io/image_io.h"

#include "engine/core/error.h"
#include "engine/core/huge_pages.h"
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/core/parallel.h"
#include "engine/io/atomic_file.h"
#include "engine/io/gzip_file.h"
#include "engine/io/metaimage_header.h"
#include "engine/io/nifti_header.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <future>
#include <itkGDCMImageIO.h>
#include <itkGDCMImageIOFactory.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageIOFactory.h>
#include <itkImageSeriesReader.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>
#include <mutex>

namespace fs = std::filesystem;

namespace segxai {
namespace {

using FloatImage = itk::Image<float, 3>;
using LabelImage = itk::Image<uint16_t, 3>;

} // namespace

void registerImageFormats() {
    static std::once_flag once;
    std::call_once(once, [] {
        // ITK prints warnings to the console (e.g. "No Series were found"); SegXAI reports
        // problems itself, as errors with the file name.
        itk::Object::GlobalWarningDisplayOff();
        itk::NiftiImageIOFactory::RegisterOneFactory();
        itk::NrrdImageIOFactory::RegisterOneFactory();
        itk::MetaImageIOFactory::RegisterOneFactory();
        itk::GDCMImageIOFactory::RegisterOneFactory();
    });
}

namespace {

// ITK's readers and writers share factories and, in its NIfTI library, global state: two
// engine threads reading at once (the batch prefetcher, a second worker) race inside ITK
// (ThreadSanitizer reports it). Image I/O is disk-bound, so it is serialised; computation on
// other threads goes on meanwhile. Recursive: readers call readImageHeader.
std::recursive_mutex& itkMutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

// ITK's messages carry source locations; users need the description only.
[[noreturn]] void rethrowItk(const std::string& path, const itk::ExceptionObject& e) {
    std::string description = e.GetDescription();
    while (!description.empty() && std::isspace((unsigned char)description.back())) {
        description.pop_back();
    }
    if (description.find("orthonormal direction cosines") != std::string::npos) {
        throw Error(fmt::format("{}: its orientation matrix is degenerate (a zero spacing, or axes that are not "
                                "perpendicular), so the image cannot be placed in space; fix the header (ITK: {})",
                                path, description));
    }
    throw Error(fmt::format("{}: cannot read: {}", path, description));
}

void checkExists(const std::string& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec == std::errc::too_many_symbolic_link_levels)
        throw Error(path + ": a loop of symbolic links (it points back to itself)");
    if (ec || !fs::exists(status)) throw Error(path + ": file not found");
}

Geometry geometryFromIO(const itk::ImageIOBase& io) {
    Geometry g;
    const unsigned n = io.GetNumberOfDimensions();
    for (unsigned a = 0; a < 3; ++a) {
        g.dims[a] = a < n ? int64_t(io.GetDimensions(a)) : 1;
        g.spacing[a] = a < n ? io.GetSpacing(a) : 1.0;
        g.origin[a] = a < n ? io.GetOrigin(a) : 0.0;
        for (unsigned b = 0; b < 3; ++b) {
            const std::vector<double> axis = a < n ? io.GetDirection(a) : std::vector<double>{};
            g.direction[a][b] = b < axis.size() ? axis[b] : (a == b ? 1.0 : 0.0);
        }
    }
    return g;
}

template <typename Image> Geometry geometryFromImage(const Image& image) {
    Geometry g;
    const auto size = image.GetLargestPossibleRegion().GetSize();
    for (unsigned a = 0; a < 3; ++a) {
        g.dims[a] = int64_t(size[a]);
        g.spacing[a] = image.GetSpacing()[a];
        g.origin[a] = image.GetOrigin()[a];
        for (unsigned b = 0; b < 3; ++b)
            g.direction[a][b] = image.GetDirection()(b, a);
    }
    return g;
}

void checkHeader(const ImageHeader& header) {
    if (header.dimensions > 3) {
        for (size_t a = 3; a < header.size.size(); ++a) {
            if (header.size[a] > 1) {
                std::string dims;
                for (size_t b = 0; b < header.size.size(); ++b) {
                    if (b) dims += 'x';
                    dims += std::to_string(header.size[b]);
                }
                throw Error(fmt::format("{}: {}D image ({}) where a 3D volume is needed; "
                                        "split it into 3D volumes first",
                                        header.path, header.dimensions, dims));
            }
        }
    }
    if (header.components != 1) {
        throw Error(fmt::format("{}: has {} components per voxel ({}); SegXAI reads scalar "
                                "volumes",
                                header.path, header.components, header.pixelType));
    }
    header.geometry.validate(header.path);
    if (header.geometry.voxelCount() > kMaxVoxels) {
        throw Error(fmt::format("{}: header asks for {} voxels ({}), more than the {} SegXAI "
                                "reads",
                                header.path, header.geometry.voxelCount(), header.geometry.describe(), kMaxVoxels));
    }
    // Reading holds the file's voxels, their float copy and the study's own: about 12 bytes a
    // voxel. Refuse before allocating rather than be killed by the system half-way.
    const uint64_t needed = uint64_t(header.geometry.voxelCount()) * 12, available = availableMemoryBytes();
    if (available > 0 && needed > available) {
        throw Error(fmt::format("{}: reading it needs about {:.1f} GB of memory ({}), and only {:.1f} GB is available",
                                header.path, double(needed) / 1e9, header.geometry.describe(),
                                double(available) / 1e9));
    }
}

std::vector<std::string> dicomFiles(const std::string& directory, const std::string& uid, std::string* chosenUid) {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(directory);
    const auto& uids = names->GetSeriesUIDs();
    if (uids.empty()) throw Error(directory + ": no DICOM series found in this folder");
    std::string chosen = uid;
    if (chosen.empty()) {
        size_t most = 0;
        for (const auto& candidate : uids) {
            const size_t count = names->GetFileNames(candidate).size();
            if (count > most) {
                most = count;
                chosen = candidate;
            }
        }
    } else if (std::find(uids.begin(), uids.end(), uid) == uids.end()) {
        throw Error(fmt::format("{}: no DICOM series with UID {}", directory, uid));
    }
    if (chosenUid) *chosenUid = chosen;
    return names->GetFileNames(chosen);
}

itk::ImageIOBase::Pointer openImageIO(const std::string& path) {
    auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::ReadMode);
    if (!io) {
        const std::string format = formatName(imageExtension(path));
        throw Error(
            fmt::format("{}: cannot read as {}: the file is damaged or is not a {} file", path, format, format));
    }
    return io;
}

std::string pixelTypeName(itk::IOComponentEnum type) {
    using C = itk::IOComponentEnum;
    switch (type) {
    case C::UCHAR:
        return "uint8";
    case C::CHAR:
        return "int8";
    case C::USHORT:
        return "uint16";
    case C::SHORT:
        return "int16";
    case C::UINT:
        return "uint32";
    case C::INT:
        return "int32";
    case C::ULONG:
    case C::ULONGLONG:
        return "uint64";
    case C::LONG:
    case C::LONGLONG:
        return "int64";
    case C::FLOAT:
        return "float32";
    case C::DOUBLE:
        return "float64";
    default:
        return itk::ImageIOBase::GetComponentTypeAsString(type);
    }
}

ImageHeader headerFromIO(const std::string& path, itk::ImageIOBase& io, std::string format) {
    ImageHeader header;
    header.path = path;
    header.format = std::move(format);
    header.dimensions = int(io.GetNumberOfDimensions());
    header.components = int(io.GetNumberOfComponents());
    header.pixelType = pixelTypeName(io.GetComponentType());
    for (unsigned a = 0; a < io.GetNumberOfDimensions(); ++a) {
        header.size.push_back(int64_t(io.GetDimensions(a)));
    }
    header.geometry = geometryFromIO(io);
    return header;
}

template <typename Reader> void observeProgress(Reader& reader, JobContext* job) {
    if (!job) return;
    reader.AddObserver(itk::ProgressEvent(), [&reader, job](const itk::EventObject&) {
        job->progress(float(reader.GetProgress()));
        if (job->stopRequested()) reader.AbortGenerateDataOn();
    });
}

// A scalar image's voxels in float32 and the grid ITK places them on.
struct FloatVoxels {
    Geometry geometry;
    std::vector<float> voxels;
};

template <typename Image>
FloatVoxels readWithItk(const std::string& path, itk::ImageIOBase::Pointer io, JobContext* job) {
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(path);
    reader->SetImageIO(io);
    observeProgress(*reader, job);
    reader->Update();
    const auto& image = *reader->GetOutput();
    FloatVoxels out{geometryFromImage(image), {}};
    // ITK converts to float32 on one core (2 s for a 512 x 512 x 400 CT, read twice by
    // `segxai explain`); reading the file's own type and converting here uses every core.
    const auto* in = image.GetBufferPointer();
    out.voxels = zeroedVector<float>(out.geometry.voxelCount());
    float* voxels = out.voxels.data();
    parallelFor(
        int64_t(out.voxels.size()),
        [&](int64_t begin, int64_t end) {
            for (int64_t n = begin; n < end; ++n)
                voxels[n] = static_cast<float>(in[n]);
        },
        int64_t(1) << 16);
    return out;
}

// Reads the file in the component type its ImageIO delivers (after the rescaling the format
// asks for), as itk::ImageFileReader<float> would before its conversion: the same values.
FloatVoxels readInFileType(const std::string& path, itk::ImageIOBase::Pointer io, JobContext* job) {
    using C = itk::IOComponentEnum;
    if (io->GetNumberOfComponents() != 1) return readWithItk<FloatImage>(path, io, job);
    switch (io->GetComponentType()) {
    case C::UCHAR:
        return readWithItk<itk::Image<uint8_t, 3>>(path, io, job);
    case C::CHAR:
        return readWithItk<itk::Image<int8_t, 3>>(path, io, job);
    case C::USHORT:
        return readWithItk<itk::Image<uint16_t, 3>>(path, io, job);
    case C::SHORT:
        return readWithItk<itk::Image<int16_t, 3>>(path, io, job);
    case C::UINT:
        return readWithItk<itk::Image<uint32_t, 3>>(path, io, job);
    case C::INT:
        return readWithItk<itk::Image<int32_t, 3>>(path, io, job);
    case C::DOUBLE:
        return readWithItk<itk::Image<double, 3>>(path, io, job);
    default: // float32, and 64-bit integers (whose width ITK names by platform)
        return readWithItk<FloatImage>(path, io, job);
    }
}

FloatVoxels readFloatVoxels(const std::string& path, const std::string& dicomSeries, JobContext* job) {
    const ImageHeader header = readImageHeader(path, dicomSeries);
    checkHeader(header);
    try {
        if (fs::is_directory(path)) {
            auto reader = itk::ImageSeriesReader<FloatImage>::New();
            reader->SetImageIO(itk::GDCMImageIO::New());
            reader->SetFileNames(dicomFiles(path, dicomSeries, nullptr));
            observeProgress(*reader, job);
            reader->Update();
            const auto& image = *reader->GetOutput();
            const float* buffer = image.GetBufferPointer();
            FloatVoxels out{geometryFromImage(image), {}};
            out.voxels.assign(buffer, buffer + out.geometry.voxelCount());
            return out;
        }
        auto io = openImageIO(path);
        io->SetFileName(path);
        io->ReadImageInformation();
        if (header.format != "NIfTI") return readInFileType(path, io, job);
        // Checking that the file is whole decompresses it to the end, as ITK's read does: the
        // two run side by side (2.2 s of a 512 x 512 x 400 CT's 4.7 s on one core).
        std::future<void> whole = std::async(std::launch::async, [&path] { checkNiftiComplete(path); });
        FloatVoxels read;
        try {
            read = readInFileType(path, io, job);
        } catch (...) {
            whole.get(); // a damaged or truncated file says so rather than what ITK made of it
            throw;
        }
        whole.get();
        return read;
    } catch (const itk::ProcessAborted&) {
        throw JobCancelled{};
    } catch (const itk::ExceptionObject& e) {
        rethrowItk(path, e);
    } catch (const std::bad_alloc&) {
        throw Error(fmt::format("{}: not enough memory to read {}", path, header.geometry.describe()));
    }
}

// ITK places a NIfTI image by its qform when there is one; Python tools use the sform.
Geometry placedGeometry(const std::string& path, const Geometry& fromItk, std::vector<std::string>* warnings) {
    const std::string ext = imageExtension(path);
    if (ext != ".nii" && ext != ".nii.gz") return fromItk;
    const auto header = readNiftiHeaderInfo(path);
    if (!header || header->sformCode <= 0) return fromItk;
    const auto bySform = sformGeometry(*header, fromItk.dims);
    if (!bySform || bySform->sameGrid(fromItk, 1e-4)) return fromItk;
    if (warnings) {
        warnings->push_back(fmt::format("{}: its qform and sform place the image differently; "
                                        "using the sform, as nibabel, FSL and MONAI do",
                                        volumeNameFromPath(path)));
    }
    return *bySform;
}

} // namespace

ImageHeader readImageHeader(const std::string& path, const std::string& dicomSeries) {
    const std::lock_guard lock(itkMutex());
    registerImageFormats();
    checkExists(path);
    std::error_code ec;
    std::string file = path;
    std::string format;
    if (fs::is_directory(path, ec)) {
        const auto files = dicomFiles(path, dicomSeries, nullptr);
        file = files.front();
        format = "DICOM";
    } else {
        if (!isSupportedImagePath(path)) {
            throw Error(fmt::format("{}: unsupported file type '{}' (SegXAI reads .nii, .nii.gz, "
                                    ".nrrd, .nhdr, .mha, .mhd and DICOM folders)",
                                    path, imageExtension(path)));
        }
        format = formatName(imageExtension(path));
        if (format == "NIfTI") {
            if (const auto nifti = readNiftiHeaderInfo(path)) checkNiftiSizes(path, *nifti);
        } else if (format == "MetaImage") {
            checkMetaImageHeader(path);
        }
    }
    try {
        auto io = openImageIO(file);
        io->SetFileName(file);
        io->ReadImageInformation();
        ImageHeader header = headerFromIO(path, *io, format);
        if (format == "DICOM" && fs::is_directory(path, ec)) {
            header.size.resize(3);
            header.size[2] = int64_t(dicomFiles(path, dicomSeries, nullptr).size());
            header.geometry.dims[2] = header.size[2];
        }
        return header;
    } catch (const itk::ExceptionObject& e) {
        rethrowItk(path, e);
    }
}

Volume readVolume(const std::string& path, const std::string& dicomSeries, JobContext* job,
                  std::vector<std::string>* warnings) {
    const std::lock_guard lock(itkMutex());
    FloatVoxels read = readFloatVoxels(path, dicomSeries, job);
    Volume volume;
    volume.geometry = placedGeometry(path, read.geometry, warnings);
    volume.geometry.validate(path);
    volume.name = volumeNameFromPath(path);
    volume.voxels = std::move(read.voxels);
    return volume;
}

LabelVolume readLabelVolume(const std::string& path, JobContext* job, std::vector<std::string>* warnings) {
    const std::lock_guard lock(itkMutex());
    const FloatVoxels read = readFloatVoxels(path, {}, job);
    LabelVolume labels;
    labels.geometry = placedGeometry(path, read.geometry, warnings);
    labels.geometry.validate(path);
    labels.name = volumeNameFromPath(path);
    labels.labels.resize(labels.geometry.voxelCount());
    const float* buffer = read.voxels.data();
    for (size_t n = 0; n < labels.labels.size(); ++n) {
        const float v = buffer[n];
        if (!(v >= 0.0f && v <= 65535.0f) || v != std::floor(v)) {
            const Geometry& g = labels.geometry;
            const size_t i = n % size_t(g.dims[0]);
            const size_t j = n / size_t(g.dims[0]) % size_t(g.dims[1]);
            const size_t k = n / size_t(g.dims[0] * g.dims[1]);
            throw Error(fmt::format("{}: not a label map: voxel ({}, {}, {}) holds {}; labels "
                                    "must be whole numbers from 0 to 65535",
                                    path, i, j, k, v));
        }
        labels.labels[n] = uint16_t(v);
    }
    return labels;
}

std::string DicomSeries::summary() const {
    std::string text = number.empty() ? "" : "#" + number + " - ";
    if (!modality.empty()) text += modality + " - ";
    text += description.empty() ? "(no description)" : description;
    text += fmt::format(" - {} x {} x {}", columns, rows, sliceCount);
    if (pixelSpacingMm > 0.0) {
        text += fmt::format(", {:g} x {:g}", pixelSpacingMm, pixelSpacingMm);
        text += sliceThicknessMm > 0.0 ? fmt::format(" x {:g} mm", sliceThicknessMm) : " mm";
    }
    return text;
}

std::vector<DicomSeries> listDicomSeries(const std::string& directory) {
    const std::lock_guard lock(itkMutex());
    registerImageFormats();
    checkExists(directory);
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(true);
    names->SetDirectory(directory);
    std::vector<DicomSeries> series;
    for (const auto& uid : names->GetSeriesUIDs()) {
        DicomSeries s;
        s.uid = uid;
        const auto files = names->GetFileNames(uid);
        s.sliceCount = files.size();
        try {
            auto io = itk::GDCMImageIO::New();
            io->SetFileName(files.front());
            io->ReadImageInformation();
            // DICOM pads strings to an even length with spaces.
            auto tag = [&](const char* key) {
                std::string value;
                io->GetValueFromTag(key, value);
                while (!value.empty() && std::isspace((unsigned char)value.back()))
                    value.pop_back();
                while (!value.empty() && std::isspace((unsigned char)value.front()))
                    value.erase(value.begin());
                return value;
            };
            auto number = [&](const char* key) {
                try {
                    return std::stod(tag(key)); // "0.5\\0.5" reads its first value
                } catch (const std::exception&) {
                    return 0.0;
                }
            };
            s.description = tag("0008|103e");
            s.number = tag("0020|0011");
            s.modality = tag("0008|0060");
            s.rows = int(number("0028|0010"));
            s.columns = int(number("0028|0011"));
            s.pixelSpacingMm = number("0028|0030");
            s.sliceThicknessMm = number("0018|0050");
        } catch (const itk::ExceptionObject&) {
            s.description = "(unreadable header)";
        }
        series.push_back(std::move(s));
    }
    std::sort(series.begin(), series.end(),
              [](const DicomSeries& a, const DicomSeries& b) { return a.sliceCount > b.sliceCount; });
    return series;
}

namespace {

// An ITK image over the given voxels, without a copy: the writers only read it.
template <typename Image>
typename Image::Pointer imageViewOf(const Geometry& g, const std::vector<typename Image::PixelType>& voxels) {
    auto image = Image::New();
    typename Image::RegionType region;
    typename Image::SpacingType spacing;
    typename Image::PointType origin;
    typename Image::DirectionType direction;
    for (unsigned a = 0; a < 3; ++a) {
        region.SetSize(a, size_t(g.dims[a]));
        spacing[a] = g.spacing[a];
        origin[a] = g.origin[a];
        for (unsigned b = 0; b < 3; ++b)
            direction(b, a) = g.direction[a][b];
    }
    image->SetRegions(region);
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    image->GetPixelContainer()->SetImportPointer(const_cast<typename Image::PixelType*>(voxels.data()), voxels.size(),
                                                 false);
    return image;
}

template <typename Image>
void writeImage(const Geometry& geometry, const std::vector<typename Image::PixelType>& voxels, const std::string& path,
                const std::vector<std::string>& protectedPaths) {
    registerImageFormats();
    if (voxels.size() != geometry.voxelCount()) {
        throw Error(fmt::format("{}: {} voxels do not fill the grid {}", path, voxels.size(), geometry.describe()));
    }
    const std::string ext = imageExtension(path);
    if (ext != ".nii" && ext != ".nii.gz" && ext != ".nrrd" && ext != ".mha" && ext != ".mhd") {
        throw Error(fmt::format("{}: cannot write '{}' files (use .nii.gz, .nii, .nrrd or .mha)", path, ext));
    }
    auto image = imageViewOf<Image>(geometry, voxels);
    auto itkWrite = [&](const std::string& file, bool compress) {
        try {
            auto writer = itk::ImageFileWriter<Image>::New();
            writer->SetFileName(file);
            writer->SetInput(image);
            writer->SetUseCompression(compress);
            writer->Update();
        } catch (const itk::ExceptionObject& e) {
            throw Error(fmt::format("{}: cannot write: {}", path, e.GetDescription()));
        }
    };
    writeAtomically(path, ext, protectedPaths, [&](const std::string& temporaryPath) {
        if (ext != ".nii.gz") {
            itkWrite(temporaryPath, true);
            return;
        }
        // ITK's NIfTI writer compresses on one core at zlib's default level, whatever level it
        // is given (14.6 s for the scale case's labels). ITK writes the plain file, with its
        // header; it is then compressed on every core at the fastest level (docs/performance.md#the-scale-benchmark).
        const std::string plain = temporaryPath.substr(0, temporaryPath.size() - 3);
        try {
            itkWrite(plain, false);
            gzipFile(plain, temporaryPath);
        } catch (...) {
            std::error_code ignored;
            std::filesystem::remove(plain, ignored);
            throw;
        }
        std::filesystem::remove(plain);
    });
}

} // namespace

void writeVolume(const Volume& volume, const std::string& path, const std::vector<std::string>& protectedPaths) {
    const std::lock_guard lock(itkMutex());
    writeImage<FloatImage>(volume.geometry, volume.voxels, path, protectedPaths);
}

void writeInt16Volume(const Geometry& geometry, const std::vector<int16_t>& voxels, const std::string& path,
                      const std::vector<std::string>& protectedPaths) {
    const std::lock_guard lock(itkMutex());
    writeImage<itk::Image<int16_t, 3>>(geometry, voxels, path, protectedPaths);
}

void writeLabelVolume(const LabelVolume& labels, const std::string& path,
                      const std::vector<std::string>& protectedPaths) {
    const std::lock_guard lock(itkMutex());
    writeImage<LabelImage>(labels.geometry, labels.labels, path, protectedPaths);
}

} // namespace segxai
