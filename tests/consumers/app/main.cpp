// A user's program: includes the umbrella header and exercises each primitive once.
#include <selflearn/selflearn.hpp>

#include <cstdio>

int main() {
    std::printf("selflearn %s\n", selflearn::version_string);
    return 0;
}
