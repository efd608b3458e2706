#include "tests/support/dicom_writer.h"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkImageSeriesWriter.h>
#include <itkMetaDataObject.h>

namespace segxai::test {

void writeDicomSeries(const Volume& volume, const std::string& folder, const std::string& seriesUid,
                      const std::string& description, const std::string& filePrefix) {
    using Image3 = itk::Image<int16_t, 3>;
    using Image2 = itk::Image<int16_t, 2>;
    std::filesystem::create_directories(folder);
    const Geometry& g = volume.geometry;

    auto image = Image3::New();
    Image3::RegionType region;
    for (unsigned a = 0; a < 3; ++a)
        region.SetSize(a, size_t(g.dims[a]));
    image->SetRegions(region);
    Image3::SpacingType spacing;
    Image3::PointType origin;
    Image3::DirectionType direction;
    for (unsigned a = 0; a < 3; ++a) {
        spacing[a] = g.spacing[a];
        origin[a] = g.origin[a];
        for (unsigned b = 0; b < 3; ++b)
            direction(b, a) = g.direction[a][b];
    }
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    image->Allocate();
    for (size_t n = 0; n < volume.voxels.size(); ++n) {
        image->GetBufferPointer()[n] = int16_t(std::lround(volume.voxels[n]));
    }

    auto io = itk::GDCMImageIO::New();
    io->KeepOriginalUIDOn();
    std::vector<itk::MetaDataDictionary> dictionaries(size_t(g.dims[2]));
    std::vector<itk::MetaDataDictionary*> pointers;
    std::vector<std::string> files;
    const std::string orientation =
        fmt::format("{:.6f}\\{:.6f}\\{:.6f}\\{:.6f}\\{:.6f}\\{:.6f}", g.direction[0].x, g.direction[0].y,
                    g.direction[0].z, g.direction[1].x, g.direction[1].y, g.direction[1].z);
    for (int64_t k = 0; k < g.dims[2]; ++k) {
        auto& d = dictionaries[size_t(k)];
        const glm::dvec3 position = g.voxelToWorld({0.0, 0.0, double(k)});
        itk::EncapsulateMetaData<std::string>(d, "0008|0060", "MR");
        itk::EncapsulateMetaData<std::string>(d, "0008|0008", "DERIVED\\SECONDARY");
        itk::EncapsulateMetaData<std::string>(d, "0008|103e", description);
        itk::EncapsulateMetaData<std::string>(d, "0020|000d", seriesUid + ".1");
        itk::EncapsulateMetaData<std::string>(d, "0020|000e", seriesUid);
        itk::EncapsulateMetaData<std::string>(d, "0008|0018", fmt::format("{}.{}", seriesUid, k + 1));
        itk::EncapsulateMetaData<std::string>(d, "0020|0013", std::to_string(k + 1));
        itk::EncapsulateMetaData<std::string>(
            d, "0020|0032", fmt::format("{:.6f}\\{:.6f}\\{:.6f}", position.x, position.y, position.z));
        itk::EncapsulateMetaData<std::string>(d, "0020|0037", orientation);
        itk::EncapsulateMetaData<std::string>(d, "0018|0050", fmt::format("{:.6f}", g.spacing.z));
        itk::EncapsulateMetaData<std::string>(d, "0028|0030", fmt::format("{:.6f}\\{:.6f}", g.spacing.y, g.spacing.x));
        pointers.push_back(&d);
        files.push_back(fmt::format("{}/{}{:03d}.dcm", folder, filePrefix, k));
    }
    auto writer = itk::ImageSeriesWriter<Image3, Image2>::New();
    writer->SetInput(image);
    writer->SetImageIO(io);
    writer->SetFileNames(files);
    writer->SetMetaDataDictionaryArray(&pointers);
    writer->Update();
}

} // namespace segxai::test
