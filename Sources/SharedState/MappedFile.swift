#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file mechanics shared by the pod's shared-memory files (control block, quota table):
/// a new file is built under a temporary name and renamed into place only once its header is
/// written, so a process that maps the path never sees a half-initialised file; an existing
/// one is mapped whole after checking it is at least a header long. Mode 0600.
enum MappedFile {
    /// Creates `path` of `size` zeroed bytes, lets `initialize` write the header into the
    /// mapping, then renames it into place. Returns the mapping.
    static func create(path: String, size: Int, initialize: (UnsafeMutableRawPointer) -> Void) throws(ControlBlock.Error) -> UnsafeMutableRawPointer {
        let tmp = path + ".tmp.\(getpid())"
        let fd = Glibc.open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: tmp, operation: "open", errno: errno) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw .io(path: tmp, operation: "ftruncate", errno: errno) }
        guard let mem = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mem != MAP_FAILED else {
            throw .io(path: tmp, operation: "mmap", errno: errno)
        }
        initialize(mem)
        guard rename(tmp, path) == 0 else {
            munmap(mem, size)
            throw .io(path: path, operation: "rename", errno: errno)
        }
        return mem
    }

    /// Maps the whole of an existing `path` (at least `headerSize` bytes) read-write.
    static func open(path: String, headerSize: Int) throws(ControlBlock.Error) -> (base: UnsafeMutableRawPointer, size: Int) {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, operation: "fstat", errno: errno) }
        let actual = Int(st.st_size)
        guard actual >= headerSize else { throw .sizeMismatch(path: path, expected: UInt64(headerSize), actual: UInt64(actual)) }
        guard let mem = mmap(nil, actual, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mem != MAP_FAILED else {
            throw .io(path: path, operation: "mmap", errno: errno)
        }
        return (mem, actual)
    }
}
