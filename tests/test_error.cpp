#include <selflearn/error.hpp>
#include <selflearn/version.hpp>

#include <doctest/doctest.h>

#include <string>

TEST_CASE("every library exception derives from selflearn::error and keeps its position") {
    try {
        throw selflearn::invalid_utf8("bad byte at offset 3", 3);
    } catch (const selflearn::error& e) {
        CHECK(std::string(e.what()) == "bad byte at offset 3");
        CHECK(dynamic_cast<const selflearn::invalid_utf8&>(e).byte_offset() == 3);
    }
    selflearn::annotation_error markup("unbalanced ']'", 7);
    CHECK(markup.position() == 7);
    CHECK(std::string(selflearn::version_string) ==
          std::to_string(SELFLEARN_VERSION_MAJOR) + "." + std::to_string(SELFLEARN_VERSION_MINOR) + "." +
              std::to_string(SELFLEARN_VERSION_PATCH));
}
