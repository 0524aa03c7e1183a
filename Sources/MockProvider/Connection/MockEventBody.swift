import NIOCore

/// The events of one streamed reply, in one buffer, with where each ends. Unpaced, the whole
/// buffer goes out in one write (one chunk on the wire, like a fast upstream); paced, it is
/// sliced event by event without copying.
struct MockEventBody {
    private(set) var buffer: ByteBuffer
    private var ends: [Int] = []

    init(capacity: Int = 1024) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    var count: Int { ends.count }

    /// Appends one event: whatever `write` puts into the buffer.
    mutating func append(_ write: (inout ByteBuffer) -> Void) {
        write(&buffer)
        ends.append(buffer.writerIndex)
    }

    /// Events `range` as one slice of the buffer.
    func events(_ range: Range<Int>) -> ByteBuffer {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= ends.count else { return ByteBuffer() }
        let start = range.lowerBound == 0 ? 0 : ends[range.lowerBound - 1]
        let end = ends[range.upperBound - 1]
        return buffer.getSlice(at: buffer.readerIndex + start, length: end - start) ?? ByteBuffer()
    }
}
