// bt_parity <fixture_dir> [--weights FILE ...] [--precision fp32|bf16] [--quiet]
// Reproduces every tensor of a parity fixture (computed with the official Python code) and checks the
// fixture's tolerance rule; exit 0 only if every tensor of every run passes. --precision bf16 runs the
// same checks under CPU bf16 autocast to measure its accuracy effect (the fp32 tolerances then fail).
// A conversation fixture (a folder with llama.safetensors: tests/fixtures/conversation/README.md) runs
// the conversation checker on the folder's own weight files.
#include "btadapter/parity/conversation_parity.h"
#include "btadapter/parity/model_parity.h"
#include "btadapter/runtime/autocast.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <map>

namespace {

void print_report(const btadapter::ParityReport& report, bool quiet) {
  std::printf("== %s\n", report.weights.c_str());
  std::map<std::string, const btadapter::ParityCheck*> worst;  // per group
  for (const auto& c : report.checks) {
    if (!quiet || !c.passed) {
      if (c.problem.empty()) {
        std::printf("%-4s %-7s %-60s max_abs_diff %.3e  ratio %.3f\n", c.passed ? "ok" : "FAIL", c.group.c_str(),
                    c.name.c_str(), c.max_abs_diff, c.worst_ratio);
      } else {
        std::printf("FAIL %-7s %-60s %s\n", c.group.c_str(), c.name.c_str(), c.problem.c_str());
      }
    }
    auto& w = worst[c.group];
    if (!w || c.worst_ratio > w->worst_ratio) w = &c;  // a failure without numbers has ratio inf
  }
  for (const auto& [group, c] : worst) {
    std::printf("worst %-7s %-60s max_abs_diff %.3e  ratio %.3f%s\n", group.c_str(), c->name.c_str(), c->max_abs_diff,
                c->worst_ratio, c->problem.empty() ? "" : "  (failed)");
  }
  std::printf("%s: %zu tensors, %s\n", report.weights.c_str(), report.checks.size(), report.passed() ? "PASS" : "FAIL");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checks numerical parity of libbtadapter with a fixture computed by the official BT-Adapter code"};
  std::string dir;
  std::vector<std::string> weights;
  bool quiet = false;
  std::string precision = "fp32";
  app.add_option("fixture_dir", dir, "fixture folder: retrieval (config.json, weights_*.safetensors, adapter/inputs/expected) or "
                 "conversation (config.json, llama.safetensors, ...)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--weights", weights,
                 "CLIP weight files to run with (any container/naming); default weights_openai.safetensors and "
                 "weights_hf.safetensors of the folder");
  app.add_flag("--quiet", quiet, "print only failures and the per-group worst");
  app.add_option("--precision", precision, "fp32, or bf16 (CPU autocast: its accuracy effect)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main(
      "bt_parity",
      [&] {
        if (std::filesystem::exists(std::filesystem::path(dir) / "llama.safetensors")) {
          TORCH_CHECK(weights.empty() && precision == "fp32", "expected no --weights or --precision for the "
                      "conversation fixture ", dir, " (it runs on its own weight files in fp32)");
          const auto report = btadapter::run_conversation_parity(dir);
          print_report(report, quiet);
          std::printf("%s\n", report.passed() ? "PARITY PASS" : "PARITY FAIL");
          return report.passed() ? 0 : 1;
        }
        auto fixture = btadapter::read_parity_fixture(dir);
        if (weights.empty()) {
          for (const char* name : {"weights_openai.safetensors", "weights_hf.safetensors"}) {
            weights.push_back((std::filesystem::path(dir) / name).string());
          }
        }
        bool passed = true;
        for (const auto& file : weights) {
          std::optional<at::ScalarType> autocast;
          if (precision == "bf16") autocast = at::kBFloat16;
          btadapter::AutocastGuard guard(autocast, c10::DeviceType::CPU);
          auto report = btadapter::run_parity(fixture, file);
          print_report(report, quiet);
          passed = passed && report.passed();
        }
        std::printf("%s\n", passed ? "PARITY PASS" : "PARITY FAIL");
        return passed ? 0 : 1;
      },
      2);
}
