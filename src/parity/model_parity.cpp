#include "btadapter/parity/model_parity.h"

#include "btadapter/io/safetensors.h"
#include "btadapter/io/state_dict.h"
#include "btadapter/io/weight_naming.h"
#include "btadapter/io/weights_file.h"
#include "btadapter/loss/pretrain_loss.h"
#include "btadapter/model/video_text_model.h"
#include "btadapter/parity/tensor_check.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace btadapter {
namespace {

using io::TensorMap;

// ---- producing the tensors ----

class Produced {
 public:
  void put(const std::string& name, const torch::Tensor& t) { tensors_[name] = t.detach().to(torch::kFloat); }
  void put_scalar(const std::string& name, const torch::Tensor& t) { put(name, t.reshape({1})); }
  void put_list(const std::string& prefix, const std::vector<torch::Tensor>& list) {
    for (size_t i = 0; i < list.size(); ++i) put(prefix + std::to_string(i), list[i]);
  }
  /// Records why `name` cannot be produced (reported instead of "not produced").
  void unavailable(const std::string& name, const std::string& reason) { reasons_[name] = reason; }
  const TensorMap& tensors() const { return tensors_; }
  std::string reason(const std::string& name) const {
    auto it = reasons_.find(name);
    return it == reasons_.end() ? "not produced by the harness" : it->second;
  }

 private:
  TensorMap tensors_;
  std::map<std::string, std::string> reasons_;
};

void produce_clip(VideoTextModel& model, const TensorMap& inputs, const TensorMap& raw_weights, Produced& out) {
  VisionTrace vision;
  auto image = model->backbone->encode_images(fixture_input(inputs, "pixels", "parity"), &vision);
  out.put("clip.vision.pre", vision.embeddings);
  out.put_list("clip.vision.hidden.", vision.clip_hidden);
  out.put("clip.vision.pooled", image.pooled);
  out.put("clip.image_embeds", image.embeds);
  TextTrace text;
  auto text_embeds = model->encode_text(fixture_input(inputs, "text_ids", "parity"), &text);
  out.put_list("clip.text.hidden.", text.hidden);
  out.put("clip.text.final", text.final);
  out.put("clip.text_embeds", text_embeds);
  auto scale = raw_weights.find("logit_scale");
  if (scale == raw_weights.end()) {
    out.unavailable("clip.logits_per_image", "not produced: the weight file has no logit_scale");
  } else {  // CLIP's forward: exp(logit_scale) * cos(image, text)
    out.put("clip.logits_per_image", loss::cosine_logits(image.embeds, text_embeds, std::exp(scale->second.item<double>())));
  }
}

void put_video(const std::string& prefix, const VideoFeatures& v, const VisionTrace& trace, Produced& out) {
  out.put_list(prefix + "branch_in.", trace.branch_in);
  out.put_list(prefix + "branch_t.", trace.branch_t);
  out.put_list(prefix + "branch.", trace.branch_out);
  out.put(prefix + "fused_cls", v.fused_cls);
  out.put(prefix + "fused_cls_ln", v.pooled);
  out.put(prefix + "frame_embeds", v.frame_embeds);
  out.put(prefix + "video_embeds", v.video_embeds);
}

void produce_eval(VideoTextModel& model, const TensorMap& inputs, Produced& out) {
  model->eval();
  torch::NoGradGuard no_grad;
  VisionTrace trace;
  auto v = model->encode_video(fixture_input(inputs, "video", "parity"), nullptr, &trace);
  out.put_list("bt.clip_hidden.", trace.clip_hidden);
  out.put("bt.clip_cls", v.clip_tokens.select(1, 0));
  put_video("bt.", v, trace, out);
}

void produce_training(VideoTextModel& model, const ParityFixture& f, const TensorMap& inputs, Produced& out) {
  model->train();
  auto mask = TubeMask::from_official_flat(fixture_input(inputs, "mask", "parity"), f.frames, MaskLayout::kOfficial);
  VisionTrace trace;
  auto v = model->encode_video(fixture_input(inputs, "video", "parity"), &mask, &trace);
  auto text = model->encode_text(fixture_input(inputs, "video_text_ids", "parity"));
  put_video("btm.", v, trace, out);
  out.put("btm.text_embeds", text);

  auto mbta = model->mbta_features(v.branch_tokens, v.clip_tokens, mask.target_index());
  loss::PretrainLossOptions options;
  options.mbca_weight = f.mbca_weight;
  options.mbta_weight = f.mbta_weight;
  options.logit_scale = f.logit_scale;
  auto losses = loss::pretrain_loss({v.video_embeds, text, model->mbca_features(v.branch_tokens), mbta.branch, mbta.target},
                                    options);
  out.put_scalar("btm.loss.NCE_loss", losses.vtc);
  out.put_scalar("btm.loss.branch_text_nce_loss", losses.mbca);
  out.put_scalar("btm.loss.clip_branch_mask_mse_loss", losses.mbta);
  out.put_scalar("btm.loss.total", losses.total);
  {
    torch::NoGradGuard no_grad;
    auto aligned = model->mbta_features(
        v.branch_tokens, v.clip_tokens, aligned_target_index(mask.branch_index(), f.frames, mask.num_patches()));
    out.put_scalar("btm.loss.clip_branch_mask_mse_loss_aligned",
                   f.mbta_weight * loss::token_alignment_loss(aligned.branch, aligned.target));
  }
  for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
  losses.total.backward();
  const std::string backbone = "backbone.";
  for (const auto& [name, param] : model->named_trainable_parameters()) {
    const std::string short_name = name.rfind(backbone, 0) == 0 ? name.substr(backbone.size()) : name;
    out.put("btm.grad." + short_name, param.grad().defined() ? param.grad() : torch::zeros_like(param));
  }
}

void produce_losses(VideoTextModel& model, const ParityFixture& f, const TensorMap& inputs, Produced& out) {
  torch::NoGradGuard no_grad;
  auto vtc = loss::info_nce(fixture_input(inputs, "loss.vtc.video_feat", "parity"), fixture_input(inputs, "loss.vtc.text_feat", "parity"), f.logit_scale);
  out.put_scalar("loss.vtc", vtc.total);
  out.put_scalar("loss.vtc_v2t", vtc.a_to_b);
  out.put_scalar("loss.vtc_t2v", vtc.b_to_a);
  auto mbca = loss::info_nce(model->mbca_features(fixture_input(inputs, "loss.mbca.branch_tokens", "parity")),
                             fixture_input(inputs, "loss.mbca.text_feat", "parity"), f.logit_scale)
                  .total;
  out.put_scalar("loss.mbca", mbca);
  out.put_scalar("loss.mbca_weighted", f.mbca_weight * mbca);
  if (f.model.adapter.depth == 0) return;  // no extra_proj without a branch
  // The MBTA inputs are single frames (T = 1), where both mask layouts coincide.
  TubeMask mask(fixture_input(inputs, "loss.mbta.mask", "parity"), 1, MaskLayout::kOfficial);
  auto pairs = model->mbta_features(fixture_input(inputs, "loss.mbta.branch_tokens", "parity"), fixture_input(inputs, "loss.mbta.clip_tokens", "parity"),
                                    mask.target_index());
  auto mbta = loss::token_alignment_loss(pairs.branch, pairs.target);
  out.put_scalar("loss.mbta", mbta);
  out.put_scalar("loss.mbta_weighted", f.mbta_weight * mbta);
}

// ---- comparing ----

std::string group_of(const std::string& name) {
  if (name.rfind("btm.grad.", 0) == 0) return "grad";
  if (name.rfind("loss.", 0) == 0 || name.rfind("btm.loss.", 0) == 0) return "loss";
  return "forward";
}

ParityCheck compare(const ParityFixture& f, const std::string& name, const Produced& produced,
                    const torch::Tensor& expected) {
  ParityCheck check;
  check.name = name;
  check.group = group_of(name);
  check.worst_ratio = std::numeric_limits<double>::infinity();  // until a comparison says otherwise
  const ParityTolerance& tol = check.group == "grad" ? f.grad : check.group == "loss" ? f.loss : f.forward;
  auto it = produced.tensors().find(name);
  if (it == produced.tensors().end()) {
    check.problem = produced.reason(name);
    return check;
  }
  if (it->second.sizes() != expected.sizes()) {
    std::ostringstream msg;
    msg << "shape " << it->second.sizes() << ", expected " << expected.sizes();
    check.problem = msg.str();
    return check;
  }
  auto a = it->second.to(torch::kDouble), e = expected.to(torch::kDouble);
  if (a.numel() == 0) {
    check.worst_ratio = 0.0;
    check.passed = true;
    return check;
  }
  auto diff = (a - e).abs();
  auto allowed = tol.atol + tol.rtol * e.abs() + tol.rtol_of_max * e.abs().max();
  check.max_abs_diff = diff.max().item<double>();
  check.worst_ratio = (diff / allowed).max().item<double>();
  if (!std::isfinite(check.max_abs_diff)) check.worst_ratio = std::numeric_limits<double>::infinity();
  check.passed = check.worst_ratio <= 1.0;
  return check;
}

VideoTextModel build_model(const ParityFixture& f, const TensorMap& raw_weights) {
  VideoTextModel model(f.model);
  TensorMap weights = io::to_canonical(raw_weights);
  for (auto& [name, tensor] : io::to_canonical(io::read_safetensors(f.dir + "/adapter.safetensors"))) {
    weights[name] = tensor;
  }
  io::load_state_dict(*model, weights);
  return model;
}

}  // namespace

bool ParityReport::passed() const {
  if (checks.empty()) return false;
  for (const auto& c : checks) {
    if (!c.passed) return false;
  }
  return true;
}

ParityReport run_parity(const ParityFixture& f, const std::string& weights_file) {
  const TensorMap raw_weights = io::read_weights_file(weights_file).tensors;
  VideoTextModel model = build_model(f, raw_weights);
  const TensorMap inputs = io::read_safetensors(f.dir + "/inputs.safetensors");
  Produced out;
  produce_clip(model, inputs, raw_weights, out);
  produce_eval(model, inputs, out);
  if (f.model.adapter.depth > 0) produce_training(model, f, inputs, out);
  produce_losses(model, f, inputs, out);
  ParityReport report;
  report.weights = weights_file;
  io::SafetensorsFile expected(f.dir + "/expected.safetensors");
  for (const auto& name : expected.names()) report.checks.push_back(compare(f, name, out, expected.tensor(name)));
  return report;
}

}  // namespace btadapter
