namespace RagPlatform.Plugins.Onnx.Tests;

/// <summary>How the cores are shared out between concurrent model runs and each run's intra-op threads.</summary>
public sealed class OnnxThreadingTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 2, 1)]
    [InlineData(3, 3, 1)]
    [InlineData(4, 4, 1)]
    [InlineData(5, 1, 5)]
    [InlineData(6, 3, 2)]
    [InlineData(8, 4, 2)]
    [InlineData(16, 4, 4)]
    public void ByDefaultTheCoresGoToAsManyRunsAsUseThemAllUpToFour(int cores, int runs, int threads) =>
        Assert.Equal(new OnnxThreading(runs, threads), OnnxThreading.ForCpu(new OnnxEmbedderOptions(), cores));

    [Theory]
    [InlineData(2, 1, 2, 1)]
    [InlineData(2, 2, 1, 2)]
    [InlineData(16, 2, 4, 2)]
    [InlineData(2, 3, 1, 3)]
    public void SetIntraOpThreadsShareTheCoresBetweenRuns(int cores, int intraOpThreads, int runs, int threads) =>
        Assert.Equal(new OnnxThreading(runs, threads), OnnxThreading.ForCpu(new OnnxEmbedderOptions { IntraOpThreads = intraOpThreads }, cores));

    [Fact]
    public void OneConcurrentRunGivesThatRunEveryCore() =>
        Assert.Equal(new OnnxThreading(1, 8), OnnxThreading.ForCpu(new OnnxRerankerOptions { ConcurrentRuns = 1 }, 8));

    [Fact]
    public void OnCudaOneRunGoesAtATimeUnlessConfigured()
    {
        var automatic = new OnnxEmbedderOptions();
        Assert.Equal(1, OnnxThreading.ForCpu(automatic, 8).OnDevice("cuda:0", automatic).ConcurrentRuns);
        Assert.Equal(4, OnnxThreading.ForCpu(automatic, 8).OnDevice("cpu", automatic).ConcurrentRuns);
        var two = new OnnxEmbedderOptions { ConcurrentRuns = 2 };
        Assert.Equal(2, OnnxThreading.ForCpu(two, 8).OnDevice("cuda:0", two).ConcurrentRuns);
    }
}
