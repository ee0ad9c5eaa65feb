# Configure, build and run the consumer app in one of the ways users take selflearn in.
# Called by ctest with -DMODE=find_package|pkg_config|add_subdirectory|fetchcontent and the paths below.
foreach(var MODE APP_DIR SELFLEARN_SOURCE_DIR WORK_DIR CXX_COMPILER GENERATOR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
    endif()
endforeach()

set(build_dir "${WORK_DIR}/${MODE}")
file(REMOVE_RECURSE "${build_dir}")
set(args -S "${APP_DIR}" -B "${build_dir}" -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCONSUME=${MODE} -DCMAKE_BUILD_TYPE=Debug)  # Debug: the fastest compile of a heavy header set

if(MODE STREQUAL "find_package")
    list(APPEND args "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
elseif(MODE STREQUAL "pkg_config")
    list(APPEND args "-DPKG_CONFIG_EXECUTABLE=${PKG_CONFIG}")
    set(ENV{PKG_CONFIG_PATH} "${WORK_DIR}/prefix/share/pkgconfig")
elseif(MODE STREQUAL "add_subdirectory")
    list(APPEND args "-DSELFLEARN_SOURCE_DIR=${SELFLEARN_SOURCE_DIR}")
elseif(MODE STREQUAL "fetchcontent")
    # A release-style archive of the library's sources, as a user would download it.
    set(archive "${WORK_DIR}/selflearn-src.tar.gz")
    file(REMOVE "${archive}")
    execute_process(
        COMMAND ${CMAKE_COMMAND} -E tar czf "${archive}" -- CMakeLists.txt LICENSE cmake include
        WORKING_DIRECTORY "${SELFLEARN_SOURCE_DIR}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "could not pack the sources: ${rc}")
    endif()
    file(SHA256 "${archive}" hash)
    list(APPEND args "-DSELFLEARN_ARCHIVE=${archive}" "-DSELFLEARN_ARCHIVE_SHA256=${hash}")
else()
    message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

foreach(step configure build run)
    if(step STREQUAL "configure")
        set(command ${CMAKE_COMMAND} ${args})
    elseif(step STREQUAL "build")
        set(command ${CMAKE_COMMAND} --build "${build_dir}")
    else()
        set(command "${build_dir}/selflearn_consumer")
    endif()
    execute_process(COMMAND ${command} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "consumer (${MODE}): ${step} failed with ${rc}")
    endif()
endforeach()
