import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `map` over the elements in contiguous chunks on every core, results in order.
    ///
    /// A node validates a batch of up to 5,000 records per request, each independently; on the
    /// two cores of a city's machine the second core would otherwise sit idle while the first
    /// checks identifiers and fields. Small arrays are mapped in place: below `minimumChunk`
    /// elements a chunk costs more to hand over than to do.
    public func concurrentMap<T: Sendable>(minimumChunk: Int = 64, _ transform: @Sendable (Element) -> T) -> [T] {
        let chunks = Swift.min(ConcurrentMapCores.count, count / Swift.max(1, minimumChunk))
        guard chunks > 1 else { return map(transform) }
        let size = (count + chunks - 1) / chunks
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let base = UncheckedSendable(buffer.baseAddress!)
            self.withUnsafeBufferPointer { source in
                let input = UncheckedSendable(source.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let range = (chunk * size)..<Swift.min(count, (chunk + 1) * size)
                    for i in range { (base.value + i).initialize(to: transform(input.value[i])) }
                }
            }
            initialized = count
        }
    }
}

/// A pointer handed to the chunks of ``Swift/Array/concurrentMap(minimumChunk:_:)``: each chunk
/// touches only its own indices, which is what makes sharing it safe.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The cores, counted once: Foundation reads `/sys/devices/system/cpu/online` on every call, twice
/// a provider's request.
enum ConcurrentMapCores {
    static let count = ProcessInfo.processInfo.activeProcessorCount
}
