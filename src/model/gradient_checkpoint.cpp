#include "btadapter/model/gradient_checkpoint.h"

#include <torch/torch.h>

#include "btadapter/runtime/autocast.h"

namespace btadapter {
namespace {

struct BlockHolder : torch::CustomClassHolder {
  explicit BlockHolder(CheckpointedBlock b)
      : block(std::move(b)),
        cuda_autocast(AutocastGuard::current_autocast_dtype(c10::DeviceType::CUDA)),
        cpu_autocast(AutocastGuard::current_autocast_dtype(c10::DeviceType::CPU)) {}
  CheckpointedBlock block;
  // The forward's autocast settings, replayed by the recomputation.
  std::optional<at::ScalarType> cuda_autocast, cpu_autocast;
};

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const CheckpointedBlock& block) {
    ctx->save_for_backward({input});
    auto holder = c10::make_intrusive<BlockHolder>(block);
    ctx->saved_data["block"] = c10::IValue::make_capsule(std::move(holder));
    return block(input);  // Function::apply runs this with grad mode off: no graph is kept
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    auto input = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    auto holder = c10::static_intrusive_pointer_cast<BlockHolder>(ctx->saved_data["block"].toCapsule());
    torch::Tensor output;
    {
      torch::AutoGradMode enable(true);
      AutocastGuard cuda_autocast(holder->cuda_autocast, c10::DeviceType::CUDA);
      AutocastGuard cpu_autocast(holder->cpu_autocast, c10::DeviceType::CPU);
      output = holder->block(input);
    }
    torch::autograd::backward({output}, {grad_outputs[0]});
    return {input.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gradient_checkpoint(const CheckpointedBlock& block, const torch::Tensor& input) {
  TORCH_CHECK(input.requires_grad(), "checkpoint: expected an input that requires grad");
  return CheckpointFunction::apply(input, block);
}

}  // namespace btadapter
