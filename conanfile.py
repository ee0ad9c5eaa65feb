from conan import ConanFile
from conan.tools.files import copy
from conan.tools.build import check_min_cppstd
import os
import re


class SelflearnConan(ConanFile):
    name = "selflearn"
    description = "Header-only C++20 self-learning primitives for conversational assistants"
    license = "MIT"
    topics = ("edit-distance", "markov-chain", "nlu", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        text = open(os.path.join(self.recipe_folder, "include", "selflearn", "version.hpp")).read()
        self.version = re.search(r'version_string = "([0-9.]+)"', text).group(1)

    def requirements(self):
        self.requires("eigen/[>=3.4 <4]")
        self.requires("fmt/[>=9 <12]")

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "selflearn")
        self.cpp_info.set_property("cmake_target_name", "selflearn::selflearn")
        self.cpp_info.set_property("pkg_config_name", "selflearn")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.requires = ["eigen::eigen", "fmt::fmt"]
