#pragma once
// Atomic output files (DESIGN.md §5): every file the project writes goes to a
// temporary name in the same directory, is fsynced, then renamed into place,
// so a failed or interrupted run leaves the old complete file or the new one,
// never a partial file. What is renamed over is checked first: a symlink is
// written through (its target is replaced, the link stays), a character
// device or FIFO (/dev/null, /dev/stdout, a pipe) is written directly and
// never replaced, and anything else that is not a regular file (a directory,
// a socket, a block device) is refused.
#include <functional>
#include <string>
#include <string_view>

namespace convnet {

// What writing to a path would do, found without writing anything.
struct OutputTarget {
  enum class Kind {
    File,      // a regular file, existing or not: `path` is replaced atomically
    Stream,    // a character device or FIFO: `path` is opened and written
    Refused,   // a directory, socket or block device: not written
  };
  Kind kind = Kind::File;
  // File: the file to replace, with the chain of symlinks at the end of the
  // given path followed (a relative link target is taken relative to the
  // link's directory; a dangling link gives the file it would create).
  // Stream, Refused: the given path.
  std::string path;
  // Refused: "a directory", "a socket", "a block device", "a symlink loop".
  std::string what;
};
// Does not throw; a path whose directory is missing is Kind::File (the write
// itself then fails with "No such file or directory"). A path reached
// through /proc (/dev/stdout, /dev/fd/N) is a Stream unless it is a socket,
// directory or block device: its "link target" is an open file description,
// which only the kernel can follow; a regular file behind it (stdout
// redirected to a file) is appended to, never replaced.
OutputTarget resolve_output(const std::string& path);

// Creates a unique temp file ".<name>.tmp.XXXXXX" next to `path` (next to the
// symlink's target when `path` is a symlink), calls write(tmp_path), fsyncs
// the temp file, renames it onto the target and fsyncs the directory. The temp
// file gets the mode of the file it replaces (or 0666 less the umask for a
// new file). On any error the temp file is removed and convnet::IoError is
// thrown, e.g. "out/model.npz: cannot write: No such file or directory". A
// convnet::Error thrown by `write` is passed on unchanged; other exceptions
// become "<path>: cannot write: <what()>".
// A Stream target: write() gets an in-memory file (/proc/self/fd/N of a
// memfd), whose bytes are then written to `path`, so a writer that reads its
// file back (the PNG check) still works. A Refused target throws
// convnet::Error, e.g. "dir: cannot write: Is a directory".
void write_file_atomic(const std::string& path,
                       const std::function<void(const std::string& tmp_path)>& write);

// Same, with the whole contents given in memory.
// Test hooks for the reliability work (atomic File targets only):
//  - CONVNET_TEST_ABORT_MIDWRITE set: writes half of `bytes` to the temp file
//    and then calls std::abort() (the temp file is left behind).
//  - CONVNET_TEST_PAUSE_MIDWRITE=SECONDS: after half of `bytes` (or, in the
//    callback version, before calling write()) sleeps SECONDS, through any
//    signals, so a test can signal the process while a temp file exists.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Removes the temp files of the writes in flight in this process. Async-
// signal-safe (reads a fixed table, calls only unlink): for a signal handler
// that is about to _exit, e.g. the CLI's second Ctrl-C. Up to 16 concurrent
// writes are tracked; a temp file created in the instant before it is
// recorded can still be left behind.
void remove_temp_files_in_flight() noexcept;

}  // namespace convnet
