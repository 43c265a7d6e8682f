@testable import CreditHub
import CreditDeploy
import Testing

/// Long polls at the head of the log are answered at each node's slot, spread over the interval,
/// so that a province's nodes do not all apply a batch at once.
@Suite struct LongPollPacingTests {
    let epoch = ContinuousClock.now

    @Test func aNodeNeverAnsweredIsAnsweredAtOnce() {
        let pacing = LongPollPacing(minimum: .milliseconds(50), epoch: epoch)
        #expect(pacing.delay(node: "360100", now: epoch + .seconds(3)) == .zero)
    }

    @Test func aNodeAnsweredAtItsSlotWaitsForItsNextAndIsNeverHeldLongerThanAnInterval() {
        let pacing = LongPollPacing(minimum: .milliseconds(50), epoch: epoch)
        let interval = pacing.interval(now: epoch)
        #expect(interval == .milliseconds(50))
        // Find the node's slot: the one instant in an interval where it is answered at once
        // after an answer an interval before.
        var now = epoch + .seconds(10)
        pacing.answered(node: "360100", at: now)
        let wait = pacing.delay(node: "360100", now: now + .milliseconds(1))
        #expect(wait > .zero && wait <= interval)
        // At its slot, answered at once; just after, the same request waits a whole interval less a little.
        now = now + .milliseconds(1) + wait
        #expect(pacing.delay(node: "360100", now: now) == .zero)
        pacing.answered(node: "360100", at: now)
        let next = pacing.delay(node: "360100", now: now + .milliseconds(2))
        #expect(next == interval - .milliseconds(2))
    }

    @Test func aNodeBackALittleLateForItsSlotIsAnsweredThenButNotLater() {
        let pacing = LongPollPacing(minimum: .milliseconds(100), epoch: epoch)
        let start = epoch + .seconds(5)
        pacing.answered(node: "360700", at: start)
        let slot = start + pacing.delay(node: "360700", now: start)
        // Within a tenth of the interval after its slot: at once.
        #expect(pacing.delay(node: "360700", now: slot + .milliseconds(9)) == .zero)
        // Later in the interval: held to the next slot.
        #expect(pacing.delay(node: "360700", now: slot + .milliseconds(40)) == .milliseconds(60))
    }

    @Test func theIntervalGrowsWithTheNodesLongPollingUpToTheBound() {
        let pacing = LongPollPacing(minimum: .milliseconds(50), epoch: epoch)
        let now = epoch + .seconds(1)
        for i in 0..<40 { pacing.answered(node: "node\(i)", at: now) }
        #expect(pacing.interval(now: now) == .milliseconds(80))
        for i in 40..<111 { pacing.answered(node: "node\(i)", at: now) }
        // 2 ms for each of 111 nodes, rounded up to 10 ms.
        #expect(pacing.interval(now: now) == .milliseconds(230))
        for i in 111..<300 { pacing.answered(node: "node\(i)", at: now) }
        #expect(pacing.interval(now: now) == .milliseconds(250))
        // A node waiting out the longest long poll (60 s) still counts; one silent for longer does not.
        #expect(pacing.interval(now: now + .seconds(61)) == .milliseconds(250))
        #expect(pacing.interval(now: now + .seconds(76)) == .milliseconds(50))
    }

    @Test func theSlotsOfAProvincesNodesAreSpreadOverTheInterval() throws {
        // The 11 cities and 100 counties, as `deploy init --counties` lays them out.
        let ids = try Deployment.jiangxiSites(counties: true).map(\.id)
        #expect(ids.count == 111)
        var tenths = [Int](repeating: 0, count: 10)
        for id in ids { tenths[min(9, Int(LongPollPacing.fraction(id) * 10))] += 1 }
        // Evenly, 11 a tenth; no tenth holds more than a quarter of the province.
        #expect(tenths.allSatisfy { $0 <= 28 }, "slots per tenth of the interval: \(tenths)")
        #expect(tenths.allSatisfy { $0 > 0 }, "slots per tenth of the interval: \(tenths)")
    }
}
