#pragma once
/// Text-video retrieval evaluation of a VideoTextModel on an annotation file: the validation hook of
/// pretraining (MSR-VTT 1k-A in the official recipe), written so that an evaluation tool can call the
/// same function.
///
///   auto annotations = data::read_annotations("test.json", "msrvtt-json", data::AnnotationOptions().root(dir));
///   auto tokenizer = make_tokenizer(config.tokenizer);            // e.g. truncate "official:32"
///   auto result = evaluate_retrieval(*model, annotations, *tokenizer, RetrievalEvalOptions().num_frames(12));
///   result.metrics.t2v.recall_at(1);
///
/// Videos: each distinct video of the annotations is encoded once (eval transforms: fixed frames, centre
/// crop to vision.image_size), with VideoTextModel::encode_video without a mask; a bad video is an error
/// naming it. Texts: every caption is one query; its ground truth is its own video (a video may have
/// several captions). Similarity = cosine (both sides L2-normalised); metrics per metrics/retrieval_metrics.h
/// (t2v and v2t R@K, MdR, MnR, pessimistic ties, no DSL by default).
///
/// Several ranks: pass the process group; each rank encodes its share of the videos and captions, the
/// embeddings are gathered, and every rank gets the same result. All ranks must call it.
///
/// Thread safety: uses the model in eval mode (restored to its previous mode afterwards); one caller at a
/// time per model.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "btadapter/data/annotations.h"
#include "btadapter/dist/process_group.h"
#include "btadapter/metrics/retrieval_metrics.h"
#include "btadapter/model/video_text_model.h"
#include "btadapter/text/tokenizer.h"
#include "btadapter/train/train_config.h"

namespace btadapter::train {

struct RetrievalEvalOptions {
  /// Frames per clip; default 12 (the official MSR-VTT evaluation).
  TORCH_ARG(int64_t, num_frames) = 12;
  /// Clips (and captions / 16) per forward; default 12.
  TORCH_ARG(int64_t, batch_size) = 12;
  /// Decoding threads; default 2.
  TORCH_ARG(int64_t, num_workers) = 2;
  /// Device the model is on; inputs are moved there; default CPU.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Autocast dtype on `device` (CUDA, or CPU bf16), or nullopt for fp32; default fp32.
  TORCH_ARG(std::optional<torch::Dtype>, autocast) = std::nullopt;
  /// How the metrics are computed; default RetrievalMetricsOptions().
  TORCH_ARG(eval::RetrievalMetricsOptions, metrics) = {};
};

struct RetrievalEvalResult {
  eval::RetrievalMetrics metrics;
  torch::Tensor text_embeddings;   ///< [N_text, E] float32 CPU, L2-normalised, in annotation order
  torch::Tensor video_embeddings;  ///< [N_video, E] float32 CPU, L2-normalised, distinct videos in first-use order
  torch::Tensor text_to_video;     ///< [N_text] int64: row of each caption's video
  double seconds = 0;              ///< wall time of the whole evaluation
};

RetrievalEvalResult evaluate_retrieval(VideoTextModelImpl& model, const data::Annotations& annotations,
                                       const Tokenizer& tokenizer, const RetrievalEvalOptions& options = {},
                                       dist::ProcessGroup* group = nullptr);

/// Named scores of one validation (e.g. {"t2v_r1", 31.2}); the trainer logs them with the step.
using ValidationScores = std::vector<std::pair<std::string, double>>;

/// What the trainer calls every eval.every_steps steps and at the end. Every rank calls it (it may run
/// collectives on `group`); the model is in its training state and must be left so.
using ValidationHook =
    std::function<ValidationScores(VideoTextModelImpl& model, dist::ProcessGroup& group, int64_t step)>;

/// The retrieval validation of the config's `eval` section (annotations read once, here; the run's
/// tokenizer with eval.text_truncate): scores t2v_r1/r5/r10/mdr/mnr and v2t_r1/r5/r10/mdr/mnr.
/// Returns an empty hook when eval.annotations is empty.
ValidationHook make_retrieval_validation(const TrainConfig& config, const TokenizerConfig& tokenizer,
                                         torch::Device device, std::optional<torch::Dtype> autocast);

}  // namespace btadapter::train
