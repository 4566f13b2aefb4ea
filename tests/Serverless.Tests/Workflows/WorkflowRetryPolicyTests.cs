using System.Text.Json;
using Serverless.Core.Storage;
using Serverless.Core.Workflows;

namespace Serverless.Tests.Workflows;

public sealed class WorkflowRetryPolicyTests
{
    [Theory]
    [InlineData(0, 1000, 1.0, null)]
    [InlineData(3, 0, 1.0, null)]
    [InlineData(3, 1000, 0.5, null)]
    [InlineData(3, 1000, 2.0, 500)]
    public void New_PolicyDurableWouldReject_Throws(int attempts, int firstMs, double backoff, int? maxMs)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new WorkflowRetryPolicy(attempts, TimeSpan.FromMilliseconds(firstMs), backoff, maxMs is null ? null : TimeSpan.FromMilliseconds(maxMs.Value)));
    }

    [Fact]
    public void DelayBefore_Backoff_GrowsAndIsCappedAtTheMaximum()
    {
        var policy = new WorkflowRetryPolicy(5, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(5));

        Assert.Equal([1, 2, 4, 5], Enumerable.Range(1, 4).Select(r => policy.DelayBefore(r).TotalSeconds));
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryField()
    {
        var policy = new WorkflowRetryPolicy(4, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(20));

        var back = JsonSerializer.Deserialize<WorkflowRetryPolicy>(JsonSerializer.Serialize(policy, JsonBlobs.Options), JsonBlobs.Options);

        Assert.Equal(policy, back);
    }
}
