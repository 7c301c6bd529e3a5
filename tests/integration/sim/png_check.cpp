// Says whether a screenshot shows something: netplace_png_check FILE. Passes when more than 2 %
// of the pixels are not the page background (white) and at least 8 distinct colours appear
// (the chart palette), i.e. the charts were drawn and not a blank or error page.
#include <png.h>

#include <cstdio>
#include <memory>
#include <set>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: netplace_png_check FILE.png\n");
        return 2;
    }
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, argv[1])) {
        std::fprintf(stderr, "%s: not a readable PNG: %s\n", argv[1], image.message);
        return 1;
    }
    image.format = PNG_FORMAT_RGB;
    std::vector<png_byte> pixels(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
        std::fprintf(stderr, "%s: cannot decode: %s\n", argv[1], image.message);
        png_image_free(&image);
        return 1;
    }
    const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
    std::size_t ink = 0;
    std::set<unsigned> colours;
    for (std::size_t i = 0; i < n; ++i) {
        const png_byte* p = &pixels[i * 3];
        if (p[0] < 245 || p[1] < 245 || p[2] < 245) ++ink;
        if (colours.size() < 100000)
            colours.insert(unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2]);
    }
    const double share = n ? static_cast<double>(ink) / static_cast<double>(n) : 0;
    std::printf("%s: %ux%u, %.1f %% non-background pixels, %zu colours\n", argv[1], image.width,
                image.height, share * 100, colours.size());
    return share > 0.02 && colours.size() >= 8 ? 0 : 1;
}
