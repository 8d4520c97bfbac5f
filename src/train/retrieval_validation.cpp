#include "btadapter/train/retrieval_validation.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>

#include "btadapter/data/dataset.h"
#include "btadapter/data/loader.h"
#include "btadapter/dist/gather.h"
#include "btadapter/runtime/autocast.h"

namespace btadapter::train {
namespace {

// The distinct videos of the annotations (first-use order) and each caption's video row.
struct Split {
  data::Annotations videos;    // one sample per distinct video
  torch::Tensor text_to_video;  // [N_text] int64
};

Split split_videos(const data::Annotations& annotations) {
  Split split;
  split.videos.path = annotations.path;
  split.videos.format = annotations.format;
  std::map<std::string, int64_t> row_of;
  std::vector<int64_t> text_to_video;
  for (const auto& sample : annotations.samples) {
    auto [it, added] = row_of.emplace(sample.video, static_cast<int64_t>(split.videos.samples.size()));
    if (added) split.videos.samples.push_back(sample);
    text_to_video.push_back(it->second);
  }
  split.text_to_video = torch::tensor(text_to_video, torch::kLong);
  return split;
}

torch::Tensor normalized(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x.to(torch::kFloat).cpu(),
                                          torch::nn::functional::NormalizeFuncOptions().dim(1));
}

// Rows gathered from every rank, put back in dataset order by their indices.
torch::Tensor gather_in_order(const torch::Tensor& rows, const torch::Tensor& indices, int64_t total,
                              dist::ProcessGroup* group) {
  torch::Tensor all_rows = rows, all_indices = indices;
  if (group && group->world_size() > 1) {
    // Collectives move tensors of the backend's device (CUDA for NCCL).
    const torch::Device device = group->backend() == dist::Backend::kNccl ? torch::Device(torch::kCUDA) : torch::kCPU;
    all_rows = torch::cat(dist::all_gather_varying(rows.to(device), *group), 0).cpu();
    all_indices = torch::cat(dist::all_gather_varying(indices.to(device), *group), 0).cpu();
  }
  TORCH_CHECK(all_indices.numel() == total, "evaluate_retrieval: expected ", total, " embeddings, got ",
              all_indices.numel());
  auto out = torch::empty({total, all_rows.size(1)}, all_rows.options());
  out.index_copy_(0, all_indices, all_rows);
  return out;
}

torch::Tensor encode_videos(VideoTextModelImpl& model, const data::Annotations& videos,
                            const RetrievalEvalOptions& options, dist::ProcessGroup* group) {
  const int64_t rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
  auto dataset = std::make_shared<const data::VideoTextDataset>(
      videos, data::ClipOptions(options.num_frames(), model.config().vision.image_size).train(false));
  data::VideoTextLoader loader(dataset, data::LoaderOptions(options.batch_size())
                                            .num_workers(options.num_workers())
                                            .shuffle(false)
                                            .drop_last(false)
                                            .bad_video(data::BadVideoPolicy::kError)
                                            .rank(rank)
                                            .world_size(world));
  std::vector<torch::Tensor> embeddings, indices;
  while (auto batch = loader.next()) {
    AutocastGuard autocast(options.autocast(), options.device().type());
    embeddings.push_back(normalized(model.encode_video(batch->video.to(options.device())).video_embeds));
    indices.push_back(batch->indices);
  }
  const int64_t dim = model.config().embed_dim;
  auto local = embeddings.empty() ? torch::empty({0, dim}) : torch::cat(embeddings, 0);
  auto local_indices = indices.empty() ? torch::empty({0}, torch::kLong) : torch::cat(indices, 0);
  return gather_in_order(local, local_indices, dataset->size(), group);
}

torch::Tensor encode_texts(VideoTextModelImpl& model, const data::Annotations& annotations,
                           const Tokenizer& tokenizer, const RetrievalEvalOptions& options,
                           dist::ProcessGroup* group) {
  const int64_t rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
  const int64_t total = static_cast<int64_t>(annotations.samples.size());
  const int64_t batch = options.batch_size() * 16;  // text is cheap next to video
  std::vector<torch::Tensor> embeddings, indices;
  // Rank r takes captions r, r + W, r + 2W, ... in batches.
  std::vector<int64_t> mine;
  for (int64_t i = rank; i < total; i += world) mine.push_back(i);
  for (size_t begin = 0; begin < mine.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(mine.size(), begin + static_cast<size_t>(batch));
    std::vector<std::string> captions;
    std::vector<int64_t> rows(mine.begin() + static_cast<std::ptrdiff_t>(begin),
                              mine.begin() + static_cast<std::ptrdiff_t>(end));
    for (int64_t i : rows) captions.push_back(annotations.samples[static_cast<size_t>(i)].caption);
    AutocastGuard autocast(options.autocast(), options.device().type());
    embeddings.push_back(normalized(model.encode_text(tokenizer.tokenize(captions).to(options.device()))));
    indices.push_back(torch::tensor(rows, torch::kLong));
  }
  const int64_t dim = model.config().embed_dim;
  auto local = embeddings.empty() ? torch::empty({0, dim}) : torch::cat(embeddings, 0);
  auto local_indices = indices.empty() ? torch::empty({0}, torch::kLong) : torch::cat(indices, 0);
  return gather_in_order(local, local_indices, total, group);
}

ValidationScores scores_of(const eval::RetrievalMetrics& metrics) {
  ValidationScores scores;
  auto add = [&](const std::string& prefix, const eval::RankSummary& s) {
    for (const auto& [k, recall] : s.recall) scores.emplace_back(prefix + "_r" + std::to_string(k), recall);
    scores.emplace_back(prefix + "_mdr", s.median_rank);
    scores.emplace_back(prefix + "_mnr", s.mean_rank);
  };
  add("t2v", metrics.t2v);
  if (metrics.v2t) add("v2t", *metrics.v2t);
  return scores;
}

}  // namespace

RetrievalEvalResult evaluate_retrieval(VideoTextModelImpl& model, const data::Annotations& annotations,
                                       const Tokenizer& tokenizer, const RetrievalEvalOptions& options,
                                       dist::ProcessGroup* group) {
  TORCH_CHECK(!annotations.samples.empty(), "evaluate_retrieval: '", annotations.path, "' holds no sample");
  const auto start = std::chrono::steady_clock::now();
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;

  const Split split = split_videos(annotations);
  RetrievalEvalResult result;
  result.video_embeddings = encode_videos(model, split.videos, options, group);
  result.text_embeddings = encode_texts(model, annotations, tokenizer, options, group);
  result.text_to_video = split.text_to_video;
  auto similarity = result.text_embeddings.matmul(result.video_embeddings.t());
  result.metrics = eval::compute_retrieval_metrics(similarity, split.text_to_video, options.metrics());

  model.train(was_training);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

ValidationHook make_retrieval_validation(const TrainConfig& config, const TokenizerConfig& tokenizer,
                                         torch::Device device, std::optional<torch::Dtype> autocast) {
  const auto& e = config.eval;
  if (e.annotations.empty()) return {};
  auto annotations = std::make_shared<const data::Annotations>(
      data::read_annotations(e.annotations, e.format, data::AnnotationOptions().root(e.video_root)));
  TokenizerConfig eval_tokenizer = tokenizer;
  eval_tokenizer.truncate = e.text_truncate;
  std::shared_ptr<const Tokenizer> text = make_tokenizer(eval_tokenizer);
  const auto options = RetrievalEvalOptions()
                           .num_frames(e.num_frames)
                           .batch_size(e.batch_size)
                           .num_workers(config.data.num_workers)
                           .device(device)
                           .autocast(autocast);
  return [annotations, text, options](VideoTextModelImpl& model, dist::ProcessGroup& group, int64_t) {
    return scores_of(evaluate_retrieval(model, *annotations, *text, options, &group).metrics);
  };
}

}  // namespace btadapter::train
