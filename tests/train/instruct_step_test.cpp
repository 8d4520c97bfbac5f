// Instruction tuning through InstructStep: on the conversation fixture the step's loss and the
// gradients of every trainable parameter equal the official training run (train.loss, train.grad.*);
// the LLM gets no gradient and does not change; 2 Gloo ranks equal 1 process with the doubled batch;
// the saved adapter + projector load into chat::VideoChat, which answers.
#include <gtest/gtest.h>

#include "btadapter/chat/video_chat.h"
#include "chat/tiny_video_chat.h"
#include "dist/run_ranks.h"
#include "btadapter/train/checkpoint.h"
#include "train/instruct_fixture.h"

using namespace btadapter;
using namespace btadapter::testing;

namespace {

train::InstructStepOptions step_options(double grad_clip) {
  return train::InstructStepOptions(train::WarmupCosineOptions(4).warmup_epochs(0).cosine_epochs(1).cosine_end_epoch(1))
      .lr(1e-3)
      .grad_clip(grad_clip);
}

// Four samples with distinct features and answers of different lengths (so the batch is padded).
std::string write_four_samples(const TempDir& dir) {
  const torch::Tensor base = conversation_fixture().in("train.features")[0];
  const std::vector<std::string> answers = {"The man is slicing tomatoes in the kitchen.", "slicing",
                                            "The man is in the kitchen.", "tomatoes"};
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < answers.size(); ++i) {
    const std::string stem = "v" + std::to_string(i);
    write_features(dir, stem, base * (1.0 + 0.1 * static_cast<double>(i)) + 0.05 * static_cast<double>(i));
    rows.push_back(instruction_row(stem, "What is the man doing in this video?", answers[i]));
  }
  return write_json(dir, "four.json", rows);
}

train::InstructionDataset four_sample_data(const TempDir& dir, const text::LlamaTokenizer& tokenizer) {
  return train::InstructionDataset(write_four_samples(dir), tokenizer,
                                   train::InstructionDatasetOptions((dir / "features").string(), 17));
}

}  // namespace

TEST(InstructStep, FixtureLossAndGradientsThroughTheStep) {
  TempDir dir;
  const auto& f = conversation_fixture();
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  write_features(dir, "tiny_conv_a_0", f.in("train.features")[0]);
  const train::InstructionDataset data(f.file("train_sample.json"), tokenizer,
                                       train::InstructionDatasetOptions((dir / "features").string(), f.symbol("P+1 (video tokens)")));
  ASSERT_EQ(data.size(), 1);
  const train::InstructionBatch batch = train::collate_instructions(data, {0}, tokenizer.unk_id());
  EXPECT_TRUE(torch::equal(batch.input_ids, f.in("train.input_ids")));
  EXPECT_TRUE(torch::equal(batch.labels, f.in("train.labels")));

  train::InstructModel model = load_instruct_fixture_model(tokenizer);
  std::map<std::string, torch::Tensor> llm_before;
  for (const auto& p : model.llm->named_parameters()) llm_before[p.key()] = p.value().clone();
  train::InstructStep step(model, step_options(0.0), dist::make_single_process_group());
  const train::InstructStepResult result = step.run(batch, 0);

  expect_fixture_match("train.loss", torch::tensor({result.loss}));
  int64_t checked = 0;
  for (const auto& item : step.trainable()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    expect_fixture_match("train.grad." + item.key(), item.value().grad());
    ++checked;
  }
  EXPECT_EQ(checked + 1, static_cast<int64_t>(std::count_if(f.expected.begin(), f.expected.end(), [](const auto& e) {
              return e.first.rfind("train.grad.", 0) == 0;
            })));  // every official gradient but embed_tokens (frozen here, see instruct_step.h)
  EXPECT_TRUE(result.applied);
  EXPECT_GT(result.grad_norm, 0.0);
  for (const auto& p : step.model().llm->named_parameters()) {
    EXPECT_FALSE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), llm_before.at(p.key()))) << p.key();
  }
}

TEST(InstructStep, TwoGlooRanksEqualOneProcessWithTheDoubledBatch) {
  TempDir dir;
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  const train::InstructionDataset data = four_sample_data(dir, tokenizer);
  ASSERT_EQ(data.size(), 4);
  constexpr int kSteps = 2;
  struct Run {
    std::vector<double> losses;
    std::vector<std::map<std::string, torch::Tensor>> grads;  // the reduced, clipped gradient of each step
    train::NamedTensors params;
  };
  const auto train_steps = [&](train::InstructStep& step, const std::vector<int64_t>& indices) {
    Run run;
    for (int s = 0; s < kSteps; ++s) {
      run.losses.push_back(step.run(train::collate_instructions(data, indices, 0), s).loss);
      run.grads.emplace_back();
      for (const auto& item : step.trainable()) run.grads.back()[item.key()] = item.value().grad().clone();
    }
    run.params = step.trainable();
    return run;
  };
  // No clipping: a clipped gradient would hide a wrongly scaled reduction.
  const double lr = step_options(0.0).lr();
  train::InstructStep single_step(load_instruct_fixture_model(tokenizer), step_options(0.0), dist::make_single_process_group());
  const Run single = train_steps(single_step, {0, 1, 2, 3});

  std::vector<Run> ranks(2);
  run_ranks(2, [&](int rank, std::shared_ptr<dist::ProcessGroup> group) {
    train::InstructStep step(load_instruct_fixture_model(tokenizer), step_options(0.0), group);
    ranks[rank] = train_steps(step, rank == 0 ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{2, 3});
  });
  for (int rank = 0; rank < 2; ++rank) {
    for (int s = 0; s < kSteps; ++s) {
      EXPECT_NEAR(ranks[rank].losses[s], single.losses[s], 1e-6 * single.losses[s]);
      for (const auto& [name, g] : single.grads[s]) {
        const double scale = g.abs().max().item<double>();
        EXPECT_LE((ranks[rank].grads[s].at(name) - g).abs().max().item<double>(), 1e-4 * scale + 1e-9)
            << name << " rank " << rank << " step " << s;
      }
    }
    for (const auto& item : single.params) {
      expect_adamw_runs_match(ranks[rank].params[item.key()], item.value(), lr, item.key());
    }
  }
  EXPECT_NE(single.losses[0], single.losses[1]);  // the first step changed the model
}

TEST(InstructStep, SavedAdapterAndProjectorLoadIntoVideoChatAndAnswer) {
  TempDir dir;
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  const train::InstructionDataset data = four_sample_data(dir, tokenizer);
  train::InstructStep step(load_instruct_fixture_model(tokenizer), step_options(1.0), dist::make_single_process_group());
  step.run(train::collate_instructions(data, {0, 1}, 0), 0);
  const std::string adapter = (dir / "adapter.safetensors").string(), projector = (dir / "projector.safetensors").string();
  train::save_instruct_weights(step.model(), adapter, projector);

  const auto& f = conversation_fixture();
  chat::VideoTower tower = chat::load_video_tower(f.file("vision_tower_clip.safetensors"), adapter);
  for (const auto& [name, p] : tower->branch_parameters()) {
    EXPECT_TRUE(torch::equal(p, step.trainable()["model.vision_tower." + name])) << name;
  }
  chat::Projector loaded = chat::load_projector(projector);
  EXPECT_TRUE(torch::equal(loaded.mm_projector->weight, step.trainable()["model.mm_projector.weight"]));
  EXPECT_FALSE(torch::equal(loaded.mm_projector->weight, chat::load_projector(f.file("mm_projector.safetensors")).mm_projector->weight));

  const chat::VideoChat chat(tiny_video_chat_options(dir).adapter(adapter).projector(projector));
  const chat::ChatAnswer answer = chat.ask(chat::VideoInput::frames(f.in("inf.frames")), "What is the man doing?",
                                           llm::GenerationOptions().max_new_tokens(6).temperature(0));
  EXPECT_FALSE(answer.generation.ids.empty());
  // VideoChat runs the trained branch and projector, not the fixture's.
  const torch::Tensor frames = f.in("inf.frames");
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(chat.video_features(chat::VideoInput::frames(frames)),
                              loaded.mm_projector->forward(tower->video_tokens(frames)), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(chat.video_features(chat::VideoInput::frames(frames)),
                               chat::VideoChat(tiny_video_chat_options(dir)).video_features(chat::VideoInput::frames(frames)),
                               1e-5, 1e-6));
}

TEST(InstructStep, ResumeFromACheckpointGivesBitIdenticalWeights) {
  TempDir dir;
  const text::LlamaTokenizer tokenizer = fixture_tokenizer(dir);
  const train::InstructionDataset data = four_sample_data(dir, tokenizer);
  const auto batch_of = [&](int64_t s) { return train::collate_instructions(data, {s % 4, (s + 1) % 4}, 0); };
  train::InstructStep straight(load_instruct_fixture_model(tokenizer), step_options(1.0), dist::make_single_process_group());
  for (int64_t s = 0; s < 4; ++s) straight.run(batch_of(s), s);

  const std::string path = (dir / "checkpoint.pt").string();
  {
    train::InstructStep first(load_instruct_fixture_model(tokenizer), step_options(1.0), dist::make_single_process_group());
    for (int64_t s = 0; s < 2; ++s) first.run(batch_of(s), s);
    train::TrainingProgress progress;
    progress.step = 2;
    train::write_checkpoint(path, train::capture_checkpoint(first.trainable(), first.optimizer(), progress, {}));
  }  // the interrupted run is gone
  train::InstructStep resumed(load_instruct_fixture_model(tokenizer), step_options(1.0), dist::make_single_process_group());
  const train::Checkpoint checkpoint = train::read_checkpoint(path);
  train::restore_checkpoint(checkpoint, resumed.trainable(), resumed.optimizer());
  for (int64_t s = checkpoint.progress.step; s < 4; ++s) resumed.run(batch_of(s), s);
  for (const auto& item : straight.trainable()) {
    EXPECT_TRUE(torch::equal(resumed.trainable()[item.key()], item.value())) << item.key();
  }
}
