// Conan's test_package: a consumer that includes the umbrella header and uses a primitive.
#include <selflearn/selflearn.hpp>

#include <cstdio>

int main() {
    const auto parsed = selflearn::parse_markup_tokens("play [artist : the weeknd]");
    std::printf("selflearn %s: %zu tokens, %zu slot(s)\n", selflearn::version_string, parsed.tokens.size(),
                parsed.slots.size());
    return parsed.slots.size() == 1 ? 0 : 1;
}
