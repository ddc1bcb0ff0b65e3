// The FUSE lowlevel callbacks, one group per file. Every callback replies
// exactly once on every path and never throws.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>

namespace mapfs::ops {

void init(void* userdata, fuse_conn_info* connection) noexcept;

// fuse_attr.cpp
void lookup(fuse_req_t request, fuse_ino_t parent, const char* name) noexcept;
void forget(fuse_req_t request, fuse_ino_t ino, std::uint64_t lookups) noexcept;
void forget_multi(fuse_req_t request, std::size_t count, fuse_forget_data* forgets) noexcept;
void getattr(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;
void setattr(fuse_req_t request, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* info) noexcept;
void statfs(fuse_req_t request, fuse_ino_t ino) noexcept;

// fuse_dir.cpp
void opendir(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;
void readdir(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept;
void readdirplus(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept;
void releasedir(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;

// fuse_open.cpp
void open(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;
void release(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;
void flush(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;
void fsync(fuse_req_t request, fuse_ino_t ino, int datasync, fuse_file_info* info) noexcept;
void fallocate(fuse_req_t request, fuse_ino_t ino, int mode, off_t offset, off_t length,
               fuse_file_info* info) noexcept;

// fuse_read.cpp, fuse_write.cpp
void read(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept;
void write(fuse_req_t request, fuse_ino_t ino, const char* data, std::size_t size, off_t offset,
           fuse_file_info* info) noexcept;

// fuse_refuse.cpp: the namespace comes from configuration only.
void mknod(fuse_req_t request, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) noexcept;
void mkdir(fuse_req_t request, fuse_ino_t parent, const char* name, mode_t mode) noexcept;
void unlink(fuse_req_t request, fuse_ino_t parent, const char* name) noexcept;
void rmdir(fuse_req_t request, fuse_ino_t parent, const char* name) noexcept;
void symlink(fuse_req_t request, const char* target, fuse_ino_t parent, const char* name) noexcept;
void rename(fuse_req_t request, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
            const char* new_name, unsigned int flags) noexcept;
void link(fuse_req_t request, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) noexcept;
void create(fuse_req_t request, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* info) noexcept;
void setxattr(fuse_req_t request, fuse_ino_t ino, const char* name, const char* value, std::size_t size,
              int flags) noexcept;
void removexattr(fuse_req_t request, fuse_ino_t ino, const char* name) noexcept;

}  // namespace mapfs::ops
