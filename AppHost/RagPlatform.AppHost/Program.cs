// The distributed topology of DESIGN.md: the ingestion service publishes embedding work on RabbitMQ, the embedding
// workers (two replicas competing for one queue) embed and write, the query API answers searches; PostgreSQL keeps the
// metadata, Redis caches, and the vector backend holds the vectors. The servers run as containers where a container
// runtime answers and as the machine's own processes otherwise, with the same names and connection strings
// (RagAppHostOptions, AppHost/README.md).
using RagPlatform.AppHost;
using RagPlatform.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);
var options = RagAppHost.ReadOptions(builder);
var infrastructure = builder.AddRagInfrastructure(options);
builder.AddRagServices(options, infrastructure);
builder.Build().Run();
