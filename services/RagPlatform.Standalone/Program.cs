using RagPlatform.Hosting;

var builder = StandaloneHost.CreateBuilder(args);
StandaloneHost.Build(builder).Run();

/// <summary>Entry point, public for WebApplicationFactory in the integration tests.</summary>
public partial class Program;
