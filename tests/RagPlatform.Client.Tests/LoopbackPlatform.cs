using Microsoft.AspNetCore.Hosting;
using RagPlatform.Core.Security;
using RagPlatform.Tests.Shared;

namespace RagPlatform.Client.Tests;

/// <summary>
/// The standalone host on loopback Kestrel. With <see cref="Keys"/>, API keys are required and each key may make
/// <see cref="RequestsPerWindow"/> requests a second.
/// </summary>
public class LoopbackPlatform() : LoopbackStandaloneHost("rag-client-")
{
    protected virtual IReadOnlyList<ApiKeyOptions> Keys => [];

    protected virtual int RequestsPerWindow => 0;

    public RagPlatformClient CreateRagClient(string? apiKey = null, int maxRetries = 4) => RagPlatformClient.Create(new RagPlatformClientOptions
    {
        BaseAddress = BaseAddress,
        ApiKey = apiKey,
        MaxRetries = maxRetries,
        Timeout = TimeSpan.FromSeconds(60),
    });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        for (var i = 0; i < Keys.Count; i++)
        {
            var prefix = $"{SecurityOptions.SectionName}:Keys:{i}:";
            builder.UseSetting(prefix + "Id", Keys[i].Id);
            builder.UseSetting(prefix + "Client", Keys[i].Client);
            builder.UseSetting(prefix + "Hash", Keys[i].Hash);
            for (var s = 0; s < Keys[i].Scopes.Count; s++)
            {
                builder.UseSetting($"{prefix}Scopes:{s}", Keys[i].Scopes[s]);
            }
        }

        if (RequestsPerWindow > 0)
        {
            builder.UseSetting($"{SecurityOptions.SectionName}:RateLimits:RequestsPerWindow", RequestsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting($"{SecurityOptions.SectionName}:RateLimits:WindowSeconds", "1");
        }
    }
}

/// <summary>Keys required; the query key may make two requests a second.</summary>
public sealed class KeyedLoopbackPlatform : LoopbackPlatform
{
    public static readonly (string Key, ApiKeyOptions Entry) Admin = Make("client-tests-admin", RagScopes.Admin);
    public static readonly (string Key, ApiKeyOptions Entry) Reader = Make("client-tests-reader", RagScopes.Query);

    protected override IReadOnlyList<ApiKeyOptions> Keys => [Admin.Entry, Reader.Entry];

    protected override int RequestsPerWindow => 2;

    private static (string, ApiKeyOptions) Make(string client, string scope)
    {
        var (key, id, hash) = ApiKeys.Create();
        return (key, new ApiKeyOptions { Id = id, Client = client, Hash = hash, Scopes = [scope] });
    }
}
