# One image for every llmq service; the command picks the service.
# Build the jars first: mvn -B -DskipTests -pl standalone -am install
FROM eclipse-temurin:17-jre
WORKDIR /opt/llmq
COPY standalone/target/lib/ lib/
COPY standalone/target/llmq-standalone.jar lib/
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -Dsun.net.httpserver.nodelay=true"
ENTRYPOINT ["java", "-cp", "/opt/llmq/lib/*"]
CMD ["llmq.standalone.LlmqMain", "--help"]
