#pragma once
// The SNIPS utterances of the shared data folder (SELFLEARN_TEST_DATA_DIR), for data-driven tests.

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace test_data {

struct snips_record {
    std::string text;
    std::string annotation;
    std::string intent;
};

/// Every record of train.jsonl and validate.jsonl, in file order; fails the test if a file is missing.
inline std::vector<snips_record> snips_records() {
    std::vector<snips_record> records;
    for (const char* file : {"train.jsonl", "validate.jsonl"}) {
        std::ifstream in(std::string(SELFLEARN_TEST_DATA_DIR) + "/" + file);
        REQUIRE_MESSAGE(in.good(), "cannot open the SNIPS data: " << SELFLEARN_TEST_DATA_DIR << "/" << file);
        std::string line;
        while (std::getline(in, line)) {
            const auto json = nlohmann::json::parse(line);
            records.push_back({json.at("text").get<std::string>(), json.at("annotation").get<std::string>(),
                               json.at("intent").get<std::string>()});
        }
    }
    return records;
}

}  // namespace test_data
