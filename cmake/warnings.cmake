# Warnings for the project's own tests, examples and benchmarks; never put on the interface target.
add_library(selflearn_warnings INTERFACE)
target_compile_options(selflearn_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion
        -Wsign-conversion -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
        -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough>
    $<$<CXX_COMPILER_ID:MSVC>:/W4 /permissive->)
option(SELFLEARN_WARNINGS_AS_ERRORS "Treat warnings as errors in tests and examples" ON)
if(SELFLEARN_WARNINGS_AS_ERRORS)
    target_compile_options(selflearn_warnings INTERFACE
        $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Werror>
        $<$<CXX_COMPILER_ID:MSVC>:/WX>)
endif()
