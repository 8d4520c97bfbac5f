#pragma once
/// Bringing a run's output folder in line with the state the run starts from (rank 0, before the first
/// step, resumed or not):
///   - temporary files that a killed writer left behind ("<file>.tmp.<pid>[.ext]", io/atomic_file.h) in
///     the folder and in its checkpoints/ are removed: after kill -9 during a checkpoint write they
///     would otherwise pile up, one per crash, each as large as a checkpoint;
///   - train_log.jsonl keeps only the records up to the starting step (jsonl_logger.h), so the steps a
///     resumed run replays are not logged twice.
///
///   const RunFolderRepair repair = repair_run_folder(config.run.output_dir, progress.step);
///   if (const std::string note = repair_note(repair); !note.empty()) log << note << "\n";
///
/// Thread safety: one caller per folder (the run's leader).

#include <cstdint>
#include <string>
#include <vector>

#include "btadapter/train/jsonl_logger.h"

namespace btadapter::train {

struct RunFolderRepair {
  std::vector<std::string> removed_temp_files;  ///< paths removed
  LogTruncation log;                            ///< what train_log.jsonl lost
};

/// Cleans `output_dir` as described above; a missing folder or log needs nothing.
RunFolderRepair repair_run_folder(const std::string& output_dir, int64_t start_step);

/// One line saying what was cleaned ("" when nothing was), for the run's log.
std::string repair_note(const RunFolderRepair& repair);

}  // namespace btadapter::train
