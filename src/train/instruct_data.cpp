#include "btadapter/train/instruct_data.h"

#include "btadapter/io/json_limits.h"
#include "btadapter/io/safetensors.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace btadapter::train {
namespace {

using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, "instruction data: cannot open '", path, "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The string member `key` of row `row`, or "" with a problem recorded.
std::string string_member(const json& row, const char* key, const std::string& where, std::string& problem) {
  if (!row.contains(key) || !row.at(key).is_string()) {
    problem = where + ": expected string key '" + key + "'";
    return "";
  }
  return row.at(key).get<std::string>();
}

// One row, or a problem naming the row.
InstructionRecord parse_row(const json& row, const std::string& where, std::string& problem) {
  InstructionRecord record;
  if (!row.is_object()) {
    problem = where + ": expected an object";
    return record;
  }
  record.video = string_member(row, "video", where, problem);
  if (!problem.empty()) return record;
  record.id = row.contains("id") && row.at("id").is_string() ? row.at("id").get<std::string>() : record.video;
  if (!row.contains("conversations") || !row.at("conversations").is_array() || row.at("conversations").empty()) {
    problem = where + ": expected a non-empty array 'conversations'";
    return record;
  }
  size_t turn = 0;
  for (const json& t : row.at("conversations")) {
    const std::string at = where + " conversations[" + std::to_string(turn++) + "]";
    const std::string from = t.is_object() ? string_member(t, "from", at, problem) : "";
    if (!t.is_object()) problem = at + ": expected an object";
    const std::string value = problem.empty() ? string_member(t, "value", at, problem) : "";
    if (!problem.empty()) return record;
    record.turns.push_back({from, value});
  }
  return record;
}

std::string feature_file_of(const std::string& feature_dir, const std::string& video) {
  return (std::filesystem::path(feature_dir) / std::filesystem::path(video).stem()).string() + ".safetensors";
}

// Whether every <vid_start> of `ids` still has its whole block and <vid_end> after a cut.
bool video_blocks_complete(const std::vector<int64_t>& ids, const text::LlamaTokenizer& tokenizer, int64_t tokens) {
  const auto starts = std::count(ids.begin(), ids.end(), tokenizer.video_start_id());
  const auto ends = std::count(ids.begin(), ids.end(), tokenizer.video_end_id());
  const auto patches = std::count(ids.begin(), ids.end(), tokenizer.video_patch_id());
  return starts == ends && patches == starts * tokens;
}

}  // namespace

InstructionFile read_instruction_json(const std::string& path) {
  const json rows = io::parse_json_bounded(read_text(path), "instruction file '" + path + "' is not valid JSON");
  TORCH_CHECK(rows.is_array(), "instruction file '", path, "': expected a JSON array of samples");
  InstructionFile file;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string problem;
    InstructionRecord record = parse_row(rows[i], "'" + path + "' row " + std::to_string(i), problem);
    if (problem.empty()) {
      file.records.push_back(std::move(record));
    } else {
      ++file.bad_rows;
      file.problems.push_back(problem);
    }
  }
  return file;
}

InstructionDataset::InstructionDataset(const std::string& json_path, const text::LlamaTokenizer& tokenizer,
                                       InstructionDatasetOptions options)
    : options_(std::move(options)) {
  TORCH_CHECK(options_.video_tokens() > 0, "instruction data: expected video_tokens > 0, got ", options_.video_tokens());
  TORCH_CHECK(options_.max_length() > 1, "instruction data: expected max_length > 1, got ", options_.max_length());
  const InstructionFile file = read_instruction_json(json_path);
  stats_.rows = static_cast<int64_t>(file.records.size()) + file.bad_rows;
  stats_.bad_rows = file.bad_rows;
  for (const InstructionRecord& record : file.records) {
    const std::string features = feature_file_of(options_.feature_dir(), record.video);
    if (!std::filesystem::is_regular_file(features)) {
      ++stats_.missing_features;
      continue;
    }
    text::InstructionSample sample;
    try {
      sample = text::preprocess_v1(text::expand_video_token(record.turns, options_.video_tokens()), tokenizer,
                                   text::ConversationTemplate::vicuna_v1_1(), options_.max_length());
    } catch (const c10::Error&) {
      ++stats_.bad_rows;  // roles that do not alternate, an unknown `from`
      continue;
    }
    if (static_cast<int64_t>(tokenizer.encode_prompt(sample.text).size()) > options_.max_length()) {
      ++stats_.truncated;
      if (!video_blocks_complete(sample.input_ids, tokenizer, options_.video_tokens())) {
        ++stats_.truncated_dropped;
        continue;
      }
    }
    stats_.mismatched += sample.mismatch ? 1 : 0;
    examples_.push_back({record.id, features, std::move(sample.input_ids), std::move(sample.labels)});
  }
  stats_.usable = size();
}

const InstructionExample& InstructionDataset::example(int64_t index) const {
  TORCH_CHECK(index >= 0 && index < size(), "instruction data: index ", index, " outside [0, ", size(), ")");
  return examples_[static_cast<size_t>(index)];
}

torch::Tensor InstructionDataset::features(int64_t index) const {
  const std::string& file = example(index).feature_file;
  const torch::Tensor f = io::read_safetensors(file).at("features");
  TORCH_CHECK(f.dim() == 3 && f.size(1) == options_.video_tokens() && f.is_floating_point(), "instruction data: '",
              file, "' tensor 'features': expected float [T, ", options_.video_tokens(), ", W], got ", f.sizes(),
              " ", f.dtype());
  return f.to(torch::kFloat);
}

InstructionBatch collate_instructions(const InstructionDataset& data, const std::vector<int64_t>& indices,
                                      int64_t pad_id) {
  InstructionBatch batch;
  std::vector<torch::Tensor> features;
  for (int64_t index : indices) {
    try {
      torch::Tensor f = data.features(index);
      TORCH_CHECK(features.empty() || f.sizes() == features.front().sizes(), "instruction data: '",
                  data.example(index).feature_file, "': expected features of shape ", features.front().sizes(),
                  " like the rest of the batch, got ", f.sizes());
      features.push_back(std::move(f));
      batch.indices.push_back(index);
    } catch (const std::exception& e) {
      ++batch.bad_videos;
      const auto* error = dynamic_cast<const c10::Error*>(&e);
      batch.problems.push_back(error ? error->what_without_backtrace() : e.what());
    }
  }
  if (features.empty()) return batch;
  size_t length = 0;
  for (int64_t index : batch.indices) length = std::max(length, data.example(index).input_ids.size());
  const auto rows = static_cast<int64_t>(batch.indices.size());
  batch.input_ids = torch::full({rows, static_cast<int64_t>(length)}, pad_id, torch::kLong);
  batch.labels = torch::full({rows, static_cast<int64_t>(length)}, text::kIgnoreIndex, torch::kLong);
  for (int64_t row = 0; row < rows; ++row) {
    const InstructionExample& e = data.example(batch.indices[static_cast<size_t>(row)]);
    const auto n = static_cast<int64_t>(e.input_ids.size());
    batch.input_ids[row].narrow(0, 0, n).copy_(torch::tensor(e.input_ids, torch::kLong));
    batch.labels[row].narrow(0, 0, n).copy_(torch::tensor(e.labels, torch::kLong));
  }
  batch.features = torch::stack(features);
  return batch;
}

}  // namespace btadapter::train
