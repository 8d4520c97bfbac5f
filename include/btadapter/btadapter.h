#pragma once
/// libbtadapter's embedding API: load a BT-Adapter (or plain CLIP) model, turn videos and texts into
/// L2-normalised embeddings of one joint space, and search them. This is the small, stable surface other
/// C++ applications link (`find_package(btadapter)`, target `btadapter::btadapter`).
///
///   #include <btadapter/btadapter.h>
///
///   auto model = btadapter::Model::load("btadapter.safetensors");         // CPU, float32
///   torch::Tensor videos = model->encode_videos({"a.mp4", "b.mp4"});      // [2, E] float32, CPU
///   torch::Tensor query = model->encode_texts({"a dog catches a frisbee"});  // [1, E]
///   btadapter::SearchResult hits = btadapter::search(query, videos, /*k=*/2);
///   // hits.ids[0][0] is the row of `videos` that matches best, hits.scores[0][0] its cosine similarity
///
/// GPU and reduced precision: `Model::load(path, LoadOptions().device(torch::kCUDA).dtype(torch::kHalf))`.
///
/// What can be loaded (the format is recognised from the file's content, not its name):
///  - a libbtadapter model file (bt_export / training output: safetensors with the config in metadata;
///    its golden embeddings are re-checked on load);
///  - official BT-Adapter weights (converted to safetensors with scripts/convert_official_checkpoint.py,
///    or a plain torch.save `.pth`);
///  - CLIP alone (OpenAI `.pt`, Hugging Face `model.safetensors` / `pytorch_model.bin`, open_clip): the
///    frozen-CLIP baseline, whose video embedding is the mean of its frame embeddings;
///  - CLIP plus a separate adapter file (LoadOptions::adapter).
/// Files without a config need the tokenizer vocabulary (LoadOptions::vocab) and, when the attention
/// heads do not follow width / 64, the head counts.
///
/// Thread safety: a loaded Model is immutable. Every const method (encode_videos, encode_texts, tokenize,
/// ...) may be called from any number of threads at once: the weights are shared read-only and each
/// call runs its own inference (and, for file paths, its own decoding threads). Model::load, similarity
/// and search are reentrant. Returned tensors are new tensors owned by the caller.
///
/// Errors: every function throws c10::Error (a std::exception) with a message naming the file, the
/// argument or the key at fault and what was expected; unreadable videos throw
/// btadapter::data::VideoError naming the video.

#include "btadapter/config/model_config.h"
#include "btadapter/io/safetensors.h"
#include "btadapter/metrics/embedding_index.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace btadapter {

class Tokenizer;

/// How to load a model. Start from `LoadOptions()` (the defaults below) and chain setters.
struct LoadOptions {
  /// Device that runs inference; default CPU.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Weight and activation dtype: kFloat (float32), kHalf (float16, CUDA only) or kBFloat16; default
  /// kFloat. Returned embeddings are float32 whatever the compute dtype.
  TORCH_ARG(torch::ScalarType, dtype) = torch::kFloat;
  /// Tokenizer vocabulary file (CLIP `bpe_simple_vocab_16e6.txt.gz`, HF `vocab.json`, a SentencePiece
  /// `.model`); default "": the vocabulary the model file names, looked up as stored and then beside the
  /// model file. Required for files without a config (plain CLIP or official weights).
  TORCH_ARG(std::string, vocab) = "";
  /// Text truncation overriding the model's ("openai" or "official:N", see text/tokenizer.h); default
  /// "": the model's own. The evaluation presets set "official:32" for MSR-VTT.
  TORCH_ARG(std::string, truncate) = "";
  /// Extra weights merged into the model file's before building (e.g. an adapter-only file next to a
  /// CLIP file); default "" (none).
  TORCH_ARG(std::string, adapter) = "";
  /// Branch fusion: "auto" (learned gates when the weights hold backbone.balance1/2, else addition),
  /// "learned", or "add" (ignores balance weights, as the official zero-shot configs do); default "auto".
  TORCH_ARG(std::string, fusion) = "auto";
  /// Attention heads of files without a config; default 0: width / 64 (OpenAI's rule, true for every
  /// released CLIP).
  TORCH_ARG(int64_t, vision_heads) = 0;
  TORCH_ARG(int64_t, text_heads) = 0;
  /// Re-compute the golden embeddings stored in a model file and compare them (catches a wrong
  /// tokenizer vocabulary, a damaged file or a broken build); default true.
  TORCH_ARG(bool, verify_golden) = true;
  /// Check a model file's tensors against the SHA-256 stored in its metadata (io/model_file.h); default true.
  TORCH_ARG(bool, verify_checksum) = true;
};

/// How `encode_videos(paths)` samples and decodes each video (the official evaluation pipeline:
/// UniformSample test indices, short-side resize, centre crop to the model's image size).
struct VideoOptions {
  /// Frames sampled per video; default 8 (MSR-VTT is evaluated with 12, DiDeMo/LSMDC/ANet with 64).
  TORCH_ARG(int64_t, num_frames) = 8;
  /// Short side of the resize before the centre crop; default 0: the model's image size (224 for 224
  /// models; the paragraph datasets use 256).
  TORCH_ARG(int64_t, short_side) = 0;
  /// Videos per forward pass; default 8.
  TORCH_ARG(int64_t, batch_size) = 8;
  /// Decoding threads; default 2.
  TORCH_ARG(int64_t, num_workers) = 2;
};

/// A loaded model and its tokenizer.
class Model {
 public:
  /// Loads a model file (see the file comment for the accepted formats), moves it to the device and dtype,
  /// builds the tokenizer and, when the file holds golden embeddings, verifies them. Throws naming the file
  /// when it is missing or unreadable, when weights are missing or misshapen, or when verification fails.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  /// A model from canonical weights already in memory (see io/weight_naming.h); `config` must match
  /// them (io::infer_model_config derives one). The vocabulary comes from options.vocab() or
  /// config.tokenizer.vocab. Used for tests and in-process conversions.
  static std::unique_ptr<Model> from_weights(const ModelConfig& config, const io::TensorMap& canonical,
                                             const LoadOptions& options = {});

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// Embeddings of video files (or frame folders / images): [paths.size(), E] float32, L2-normalised, CPU,
  /// rows in the order of `paths`. Throws data::VideoError naming the first video that cannot be read.
  torch::Tensor encode_videos(const std::vector<std::string>& paths, const VideoOptions& options = {}) const;

  /// Embeddings of decoded clips. `video` is [B, T, 3, S, S] with S = config().vision.image_size, either
  /// float CLIP-normalised (data::normalize_clip) or uint8 RGB 0..255 (normalised here), on any device;
  /// T <= config().adapter.max_frames when the model has an adapter. Returns [B, E] float32,
  /// L2-normalised, CPU.
  torch::Tensor encode_videos(const torch::Tensor& video) const;

  /// Embeddings of texts: [texts.size(), E] float32, L2-normalised, CPU (encoded in chunks of 256).
  torch::Tensor encode_texts(const std::vector<std::string>& texts) const;

  /// The token ids the text tower sees: [texts.size(), L] int64.
  torch::Tensor tokenize(const std::vector<std::string>& texts) const;

  /// The resolved configuration (fusion and tokenizer as loaded, overrides applied).
  const ModelConfig& config() const;
  /// Joint embedding size E.
  int64_t embed_dim() const;
  torch::Device device() const;
  torch::ScalarType dtype() const;
  /// The options the model was loaded with.
  const LoadOptions& options() const;
  /// The file it was loaded from ("" for from_weights).
  const std::string& path() const;
  /// One line saying what was loaded, e.g. "OpenAI weights (TorchScript), no adapter (frozen CLIP, ...)".
  const std::string& description() const;
  /// The vocabulary file the tokenizer was built from.
  const std::string& vocab_path() const;
  /// The model file's string metadata (empty for files without any).
  const io::Metadata& metadata() const;
  const Tokenizer& tokenizer() const;
  /// The weights under canonical names: detached tensors sharing the model's storage (on its device, in
  /// its dtype). Copy them before handing them to code that writes into tensors.
  io::TensorMap weights() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Top-k matches (see metrics/embedding_index.h): scores [Q, k] float32 and ids [Q, k] int64 (row indices
/// of the searched matrix, -1 past its end), best first, exact ties in row order.
using SearchResult = eval::SearchResult;

/// Cosine similarities [Q, N] float32 (CPU) between the rows of `queries` [Q, E] and `keys` [N, E]. Rows
/// are L2-normalised here, so un-normalised inputs are fine; a zero row is an error naming it.
torch::Tensor similarity(const torch::Tensor& queries, const torch::Tensor& keys);

/// The k (>= 1) rows of `embeddings` [N, E] most similar (cosine) to each row of `queries` [Q, E].
/// Exact, blocked, and memory-bounded for large N (eval::FlatInnerProductIndex).
SearchResult search(const torch::Tensor& queries, const torch::Tensor& embeddings, int64_t k);

/// Parses "cpu", "cuda", "cuda:1" (torch::Device's syntax); throws naming the accepted forms.
torch::Device parse_device(const std::string& name);
/// Parses "float32"/"fp32", "float16"/"fp16"/"half", "bfloat16"/"bf16"; throws listing them.
torch::ScalarType parse_dtype(const std::string& name);
/// "float32", "float16" or "bfloat16".
std::string dtype_name(torch::ScalarType dtype);

}  // namespace btadapter
