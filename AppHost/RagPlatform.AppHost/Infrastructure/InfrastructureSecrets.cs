using Aspire.Hosting.ApplicationModel;

namespace RagPlatform.AppHost.Infrastructure;

/// <summary>
/// The servers' credentials as secret parameters, the same names in both forms. A value comes from configuration
/// (<c>Parameters:messaging-password</c>, e.g. user secrets); otherwise one is generated and kept in the AppHost's user
/// secrets, so that data written by one run opens in the next. In the manifest they are inputs, never values.
/// </summary>
public sealed record InfrastructureSecrets(
    IResourceBuilder<ParameterResource> MessagingPassword,
    IResourceBuilder<ParameterResource> PostgresPassword,
    IResourceBuilder<ParameterResource> CachePassword)
{
    public static InfrastructureSecrets Add(IDistributedApplicationBuilder builder) => new(
        // No special characters: the RabbitMQ password goes into an amqp:// URI and the Redis one into a config line.
        Password(builder, ResourceNames.Messaging + "-password"),
        Password(builder, ResourceNames.Postgres + "-password"),
        Password(builder, ResourceNames.Cache + "-password"));

    private static IResourceBuilder<ParameterResource> Password(IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);
}
