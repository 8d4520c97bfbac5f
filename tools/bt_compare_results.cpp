// bt_compare_results: one table comparing bt_eval_retrieval results files (one row per NAME=FILE).
#include "btadapter/eval/results_comparison.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Compare retrieval results files: t2v/v2t R@1/5/10 and direction accuracy, one row each"};
  std::vector<std::string> entries;
  app.add_option("results", entries, "NAME=FILE (a results JSON written by bt_eval_retrieval -o)")->required();
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_compare_results", [&] {
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& e : entries) {
      const auto eq = e.find('=');
      TORCH_CHECK(eq != std::string::npos && eq > 0, "expected NAME=FILE, got '", e, "'");
      named.emplace_back(e.substr(0, eq), e.substr(eq + 1));
    }
    std::cout << btadapter::eval::format_results_comparison(named);
    return 0;
  });
}
