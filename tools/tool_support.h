#pragma once
// Shared by the tools that load a model (bt_eval_retrieval, bt_eval_recognition, bt_export): the model
// options (one to one onto btadapter::LoadOptions, whose defaults they show) and a progress line.

#include "btadapter/btadapter.h"
#include "btadapter/runtime/cpu_runtime.h"
#include "run_main.h"

#include <CLI/CLI.hpp>


#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

namespace btadapter::tools {

struct ModelCli {
  std::string model;
  std::string adapter;
  std::string vocab;
  std::string truncate;
  std::string fusion = LoadOptions().fusion();
  std::string device = LoadOptions().device().str();
  std::string dtype = dtype_name(LoadOptions().dtype());
  int64_t vision_heads = LoadOptions().vision_heads();
  int64_t text_heads = LoadOptions().text_heads();
  bool no_verify = false;

  /// `model_flag` names the model option ("--model"; bt_export uses "-i,--input,--import"); `inference`
  /// adds --device and --dtype (bt_export has its own --dtype for the stored weights).
  void add_to(CLI::App& app, const std::string& model_flag = "-m,--model", bool inference = true) {
    app.add_option(model_flag, model,
                   "model: a btadapter model file, official BT-Adapter weights (.safetensors/.pth), or CLIP "
                   "(OpenAI .pt, HF .safetensors/.bin) for the frozen-CLIP baseline")
        ->required();
    app.add_option("--adapter", adapter, "extra weights merged into the model's (e.g. an adapter-only file)");
    app.add_option("--vocab", vocab, "tokenizer vocabulary (required for files without a config, e.g. CLIP's "
                                     "bpe_simple_vocab_16e6.txt.gz)");
    app.add_option("--truncate", truncate, "text truncation: openai | official:N (default: the dataset preset's, "
                                           "else the model's)");
    app.add_option("--fusion", fusion, "branch fusion: auto | learned | add (the official zero-shot configs use "
                                       "add)")
        ->capture_default_str();
    if (inference) {
      app.add_option("--device", device, "cpu | cuda | cuda:N")->capture_default_str();
      app.add_option("--dtype", dtype, "float32 | float16 (CUDA) | bfloat16")->capture_default_str();
    }
    app.add_option("--vision-heads", vision_heads, "vision attention heads for files without a config (0: width/64)")
        ->capture_default_str();
    app.add_option("--text-heads", text_heads, "text attention heads for files without a config (0: width/64)")
        ->capture_default_str();
    app.add_flag("--no-verify", no_verify, "do not re-check the checksum and golden embeddings stored in a model file");
  }

  /// CPU runs: LibTorch and BLAS threads and the allocator as runtime/cpu_runtime.h chooses (thread
  /// variables in the environment win). Call once, before loading the model.
  void configure_runtime() const {
    if (parse_device(device).is_cpu()) configure_cpu_runtime();
  }

  LoadOptions load_options() const {
    return LoadOptions()
        .device(parse_device(device))
        .dtype(parse_dtype(dtype))
        .vocab(vocab)
        .truncate(truncate)
        .adapter(adapter)
        .fusion(fusion)
        .vision_heads(vision_heads)
        .text_heads(text_heads)
        .verify_golden(!no_verify)
        .verify_checksum(!no_verify);
  }
};

/// A progress line on stderr, rewritten in place: "<what> 120/1000 (8.3/s)".
class ProgressLine {
 public:
  explicit ProgressLine(std::string what) : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {}
  void operator()(int64_t done, int64_t total) const {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r%s %lld/%lld (%.1f/s)%s", what_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), seconds > 0 ? done / seconds : 0.0, done == total ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace btadapter::tools
