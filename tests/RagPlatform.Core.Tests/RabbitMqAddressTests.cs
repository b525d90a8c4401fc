using RagPlatform.Messaging;

namespace RagPlatform.Core.Tests;

public sealed class RabbitMqAddressTests
{
    [Fact]
    public void An_aspire_amqp_uri_splits_into_an_address_without_credentials_and_the_credentials()
    {
        var address = RabbitMqAddress.Parse("amqp://guest:p%40ss-w0rd@rabbit.internal:5672");

        Assert.Equal("guest", address.Username);
        Assert.Equal("p@ss-w0rd", address.Password);
        Assert.Equal(new Uri("amqp://rabbit.internal:5672/"), address.HostAddress);
        Assert.DoesNotContain("w0rd", address.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_without_echoing_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RabbitMqAddress.Parse("Host=rabbit;Password=hunter2"));

        Assert.Contains("ConnectionStrings:messaging", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
