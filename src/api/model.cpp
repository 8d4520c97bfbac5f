#include "btadapter/btadapter.h"

#include "btadapter/api/golden.h"
#include "btadapter/api/model_source.h"
#include "btadapter/api/video_encoding.h"
#include "btadapter/data/transforms.h"
#include "btadapter/io/model_weights.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/metrics/similarity.h"
#include "btadapter/text/tokenizer.h"

#include <torch/torch.h>

namespace btadapter {
namespace {

constexpr int64_t kTextChunk = 256;

constexpr const char* kVocabHint = "pass one with LoadOptions::vocab (tools: --vocab), e.g. CLIP's "
                                   "bpe_simple_vocab_16e6.txt.gz";

void check_load_options(const LoadOptions& options) {
  const auto dtype = options.dtype();
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kHalf || dtype == torch::kBFloat16,
              "expected dtype float32, float16 or bfloat16, got ", dtype);
  TORCH_CHECK(dtype != torch::kHalf || options.device().is_cuda(),
              "dtype float16 needs a CUDA device (CPU kernels lack float16 support); use bfloat16 or float32 "
              "on the CPU");
  TORCH_CHECK(!options.device().is_cuda() || torch::cuda::is_available(),
              "device '", options.device().str(), "' requested but CUDA is not available in this build/machine");
}

/// `x` as float32 CPU rows, checked: 2-d and no zero row (which has no direction).
torch::Tensor checked_rows(const torch::Tensor& x, const char* what) {
  TORCH_CHECK(x.defined() && x.dim() == 2, "expected ", what, " as a 2-d [rows, E] tensor, got shape ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  auto rows = x.to(torch::kCPU, torch::kFloat);
  auto zero = (rows.norm(2, 1) == 0).nonzero();
  TORCH_CHECK(zero.size(0) == 0, "expected non-zero ", what, " rows, got a zero row at index ",
              zero.size(0) ? zero[0][0].item<int64_t>() : -1);
  return rows;
}

}  // namespace

struct Model::Impl {
  ModelConfig config;
  LoadOptions options;
  std::string path;
  std::string description = "in-memory weights";
  std::string vocab;
  io::Metadata metadata;
  VideoTextModel module{nullptr};
  std::unique_ptr<Tokenizer> tokenizer;

  /// Runs `forward` on the model's device in inference mode and returns L2-normalised float32 CPU rows,
  /// as a normal tensor (inference tensors cannot be modified in place outside inference mode).
  template <typename Forward>
  torch::Tensor embed(Forward&& forward) const {
    torch::Tensor out;
    {
      torch::InferenceMode guard;
      out = torch::nn::functional::normalize(forward().to(torch::kFloat),
                                             torch::nn::functional::NormalizeFuncOptions().dim(1))
                .cpu();
    }
    return out.clone();
  }
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::from_weights(const ModelConfig& config, const io::TensorMap& canonical,
                                           const LoadOptions& options) {
  check_load_options(options);
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  io::TensorMap tensors = canonical;
  api::apply_overrides(impl->config, tensors, options, "in-memory weights");
  impl->module = api::build_video_text_model(impl->config, tensors);
  impl->module->to(options.device(), options.dtype());
  impl->vocab = io::resolve_vocab(options.vocab(), impl->config.tokenizer.vocab, "", kVocabHint);
  TokenizerConfig tokenizer = impl->config.tokenizer;
  tokenizer.vocab = impl->vocab;
  impl->tokenizer = make_tokenizer(tokenizer);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  check_load_options(options);
  api::ModelSource source = api::read_model_source(path, options);
  auto impl = std::make_unique<Impl>();
  impl->config = source.config;
  impl->options = options;
  impl->path = path;
  impl->description = source.description;
  impl->metadata = std::move(source.metadata);
  try {
    impl->module = api::build_video_text_model(source.config, source.tensors);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "model file '", path, "': ", e.what_without_backtrace());
  }
  source.tensors.clear();  // the module holds its own copies now
  impl->module->to(options.device(), options.dtype());
  impl->vocab = io::resolve_vocab(options.vocab(), impl->config.tokenizer.vocab, path, kVocabHint);
  TokenizerConfig tokenizer = impl->config.tokenizer;
  tokenizer.vocab = impl->vocab;
  impl->tokenizer = make_tokenizer(tokenizer);
  std::unique_ptr<Model> model(new Model(std::move(impl)));
  auto golden = model->metadata().find(api::kGoldenKey);
  if (options.verify_golden() && golden != model->metadata().end()) {
    api::verify_golden(*model, api::golden_from_json(golden->second, path));
  }
  return model;
}

torch::Tensor Model::encode_videos(const torch::Tensor& video) const {
  const int64_t size = impl_->config.vision.image_size;
  TORCH_CHECK(video.defined() && video.dim() == 5 && video.size(2) == 3 && video.size(3) == size &&
                  video.size(4) == size,
              "encode_videos: expected video [B, T, 3, ", size, ", ", size, "], got ",
              video.defined() ? video.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(video.scalar_type() == torch::kByte || at::isFloatingType(video.scalar_type()),
              "encode_videos: expected uint8 RGB or float CLIP-normalised frames, got ", video.scalar_type());
  const int64_t max_frames = impl_->config.adapter.max_frames;
  TORCH_CHECK(impl_->config.adapter.depth == 0 || video.size(1) <= max_frames, "encode_videos: expected at most ",
              max_frames, " frames (the adapter's time embedding), got ", video.size(1));
  return impl_->embed([&] {
    torch::Tensor x = video.to(impl_->options.device());
    if (x.scalar_type() == torch::kByte) x = data::normalize_clip(x);
    return impl_->module->encode_video(x.to(impl_->options.dtype())).video_embeds;
  });
}

torch::Tensor Model::encode_videos(const std::vector<std::string>& paths, const VideoOptions& options) const {
  return api::encode_video_files(*this, paths, options).embeddings;
}

torch::Tensor Model::tokenize(const std::vector<std::string>& texts) const {
  return impl_->tokenizer->tokenize(texts);
}

torch::Tensor Model::encode_texts(const std::vector<std::string>& texts) const {
  std::vector<torch::Tensor> chunks;
  for (size_t begin = 0; begin < texts.size(); begin += kTextChunk) {
    const size_t end = std::min(texts.size(), begin + kTextChunk);
    const torch::Tensor ids = tokenize({texts.begin() + begin, texts.begin() + end});
    chunks.push_back(impl_->embed([&] { return impl_->module->encode_text(ids.to(impl_->options.device())); }));
  }
  return chunks.empty() ? torch::zeros({0, embed_dim()}) : torch::cat(chunks);
}

const ModelConfig& Model::config() const { return impl_->config; }
int64_t Model::embed_dim() const { return impl_->config.embed_dim; }
torch::Device Model::device() const { return impl_->options.device(); }
torch::ScalarType Model::dtype() const { return impl_->options.dtype(); }
const LoadOptions& Model::options() const { return impl_->options; }
const std::string& Model::path() const { return impl_->path; }
const std::string& Model::description() const { return impl_->description; }
const std::string& Model::vocab_path() const { return impl_->vocab; }
const io::Metadata& Model::metadata() const { return impl_->metadata; }
const Tokenizer& Model::tokenizer() const { return *impl_->tokenizer; }
io::TensorMap Model::weights() const { return io::state_dict(*impl_->module); }

torch::Tensor similarity(const torch::Tensor& queries, const torch::Tensor& keys) {
  const auto q = checked_rows(queries, "query"), k = checked_rows(keys, "key");
  TORCH_CHECK(q.size(1) == k.size(1), "similarity: expected queries and keys of the same width, got ", q.size(1),
              " and ", k.size(1));
  return eval::cosine_similarity_matrix(q, k);
}

SearchResult search(const torch::Tensor& queries, const torch::Tensor& embeddings, int64_t k) {
  const auto q = checked_rows(queries, "query"), rows = checked_rows(embeddings, "embedding");
  TORCH_CHECK(q.size(1) == rows.size(1), "search: expected queries and embeddings of the same width, got ", q.size(1),
              " and ", rows.size(1));
  auto unit = [](const torch::Tensor& x) { return x / x.norm(2, 1, true); };
  eval::FlatInnerProductIndex index(eval::FlatIndexOptions(rows.size(1)));
  if (rows.size(0) > 0) index.add(unit(rows));
  return index.search(unit(q), k);
}

torch::Device parse_device(const std::string& name) {
  try {
    return torch::Device(name);
  } catch (const std::exception&) {
    TORCH_CHECK(false, "expected a device 'cpu', 'cuda' or 'cuda:<index>', got '", name, "'");
  }
}

torch::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32" || name == "float") return torch::kFloat;
  if (name == "float16" || name == "fp16" || name == "half") return torch::kHalf;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  TORCH_CHECK(false, "expected a dtype 'float32' (fp32), 'float16' (fp16, half) or 'bfloat16' (bf16), got '", name,
              "'");
}

std::string dtype_name(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat: return "float32";
    case torch::kHalf: return "float16";
    case torch::kBFloat16: return "bfloat16";
    default: TORCH_CHECK(false, "expected dtype float32, float16 or bfloat16, got ", dtype);
  }
}

}  // namespace btadapter
