// bt_export: one self-contained libbtadapter model file (official key naming, config, tokenizer reference,
// golden embeddings) from a trained model, official BT-Adapter weights or OpenAI / HF CLIP weights.
#include "btadapter/api/model_export.h"
#include "btadapter/btadapter.h"
#include "tool_support.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace {

using namespace btadapter;

struct Args {
  tools::ModelCli model;
  std::string output;
  std::string dtype = dtype_name(api::ExportOptions().dtype());
  std::vector<std::string> metadata;
  bool no_golden = false, no_reload = false;
};

io::Metadata parse_metadata(const std::vector<std::string>& entries) {
  io::Metadata out;
  for (const auto& entry : entries) {
    const auto eq = entry.find('=');
    TORCH_CHECK(eq != std::string::npos && eq > 0, "expected --meta KEY=VALUE, got '", entry, "'");
    out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

int run(const Args& a) {
  const auto model = Model::load(a.model.model, a.model.load_options());
  std::cerr << "loaded " << a.model.model << ": " << model->description() << "\n";
  const auto options = api::ExportOptions()
                           .dtype(parse_dtype(a.dtype))
                           .golden(!a.no_golden)
                           .metadata(parse_metadata(a.metadata));
  const api::ExportSummary summary = api::export_model(*model, a.output, options);
  if (!a.no_reload) {
    // The written file must load on its own (config, vocabulary) and reproduce its golden embeddings.
    Model::load(a.output);
  }
  const nlohmann::ordered_json report{{"output", a.output},
                                      {"source", a.model.model},
                                      {"description", model->description()},
                                      {"dtype", a.dtype},
                                      {"tensors", summary.tensors},
                                      {"parameters", summary.parameters},
                                      {"golden", summary.golden},
                                      {"reloaded", !a.no_reload},
                                      {"vocab", model->vocab_path()}};
  std::cout << report.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Export or import a model as one self-contained libbtadapter model file (safetensors, official "
               "BT-Adapter key names, config, tokenizer reference, golden embeddings)"};
  Args a;
  a.model.add_to(app, "-i,--input,--import", /*inference=*/false);
  app.add_option("-o,--output", a.output, "output .safetensors file")->required();
  app.add_option("--dtype", a.dtype, "stored weight dtype: float32 | float16 | bfloat16")->capture_default_str();
  app.add_option("--meta", a.metadata, "extra metadata KEY=VALUE (repeatable)");
  app.add_flag("--no-golden", a.no_golden, "do not store golden embeddings");
  app.add_flag("--no-reload", a.no_reload, "do not reload the written file to check it");
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_export", [&] { return run(a); });
}
