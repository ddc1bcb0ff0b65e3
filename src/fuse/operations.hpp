// The FUSE lowlevel callbacks, one file per operation (or per small group:
// directory.cpp, refuse.cpp) named after it. Every callback replies exactly
// once on every path and never throws. The table is in operations.cpp.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>

namespace mapfs::ops {

void init(void* userdata, fuse_conn_info* connection) noexcept;                                       // init.cpp
void lookup(fuse_req_t request, fuse_ino_t parent, const char* name) noexcept;                         // lookup.cpp
void forget(fuse_req_t request, fuse_ino_t ino, std::uint64_t lookups) noexcept;                       // forget.cpp
void forget_multi(fuse_req_t request, std::size_t count, fuse_forget_data* forgets) noexcept;          // forget.cpp
void getattr(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;                       // getattr.cpp
void setattr(fuse_req_t request, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* info) noexcept;  // setattr.cpp
void statfs(fuse_req_t request, fuse_ino_t ino) noexcept;                                              // statfs.cpp

// directory.cpp
void opendir(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;
void readdir(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept;
void readdirplus(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept;
void releasedir(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;

void open(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;                          // open.cpp
void release(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;                       // release.cpp
void flush(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept;                         // flush.cpp
void fsync(fuse_req_t request, fuse_ino_t ino, int datasync, fuse_file_info* info) noexcept;           // fsync.cpp
void fallocate(fuse_req_t request, fuse_ino_t ino, int mode, off_t offset, off_t length,
               fuse_file_info* info) noexcept;                                                          // fallocate.cpp
void read(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept;  // read.cpp
void write(fuse_req_t request, fuse_ino_t ino, const char* data, std::size_t size, off_t offset,
           fuse_file_info* info) noexcept;                                                              // write.cpp

void lseek(fuse_req_t request, fuse_ino_t ino, off_t offset, int whence, fuse_file_info* info) noexcept;   // lseek.cpp
void copy_file_range(fuse_req_t request, fuse_ino_t ino_in, off_t offset_in, fuse_file_info* info_in, fuse_ino_t ino_out,
                     off_t offset_out, fuse_file_info* info_out, std::size_t length, int flags) noexcept;  // copy_file_range.cpp
void getxattr(fuse_req_t request, fuse_ino_t ino, const char* name, std::size_t size) noexcept;                // xattr.cpp
void listxattr(fuse_req_t request, fuse_ino_t ino, std::size_t size) noexcept;                                   // xattr.cpp

// refuse.cpp: the namespace comes from configuration only.
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
