#pragma once
/// One plain-text table comparing several retrieval results files (written by bt_eval_retrieval, see
/// eval/results_json.h), one row per model, e.g. the demo's frozen-CLIP baseline against BT-Adapter:
///
///   model            t2v R@1   R@5  R@10   v2t R@1   R@5  R@10   direction
///   frozen CLIP         35.9  75.0  89.1      25.0  71.9  89.1        50.0
///   BT-Adapter          46.9  96.9 100.0      35.9  95.3 100.0        93.8
///
/// Missing values (no v2t, no direction section) print as "-". Thread safety: free function.

#include <string>
#include <utility>
#include <vector>

namespace btadapter::eval {

/// `named_files`: (row name, results JSON path). Throws naming the file when it cannot be read or holds
/// no retrieval metrics.
std::string format_results_comparison(const std::vector<std::pair<std::string, std::string>>& named_files);

}  // namespace btadapter::eval
