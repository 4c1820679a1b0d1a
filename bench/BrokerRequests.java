// Prints the local Kafka broker's request counters: requests served per API since it started
// (`kafka.network:type=RequestMetrics,name=RequestsPerSec`, summed over versions) and the
// broker's topic totals (messages and bytes in and out, produce and fetch requests).
//
// Run by bench/kafka_requests.py with Java's single-file source launcher
// (`java BrokerRequests.java PID`) inside the stack's network namespace: it attaches to the
// broker's JVM, starts its local management agent (loopback only, no port to configure) and
// reads the counters over it. Output, one per line: `requests API COUNT`, `topics NAME COUNT`.

import com.sun.tools.attach.VirtualMachine;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerRequests {
    private static final String[] TOPIC_TOTALS = {
        "MessagesInPerSec", "BytesInPerSec", "BytesOutPerSec",
        "TotalProduceRequestsPerSec", "TotalFetchRequestsPerSec",
    };

    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        String address = vm.startLocalManagementAgent();
        vm.detach();
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            Map<String, Long> counts = new TreeMap<>();
            ObjectName pattern =
                new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*");
            for (ObjectName name : server.queryNames(pattern, null)) {
                long count = (Long) server.getAttribute(name, "Count");
                counts.merge(name.getKeyProperty("request"), count, Long::sum);
            }
            counts.forEach((api, count) -> System.out.println("requests " + api + " " + count));
            for (String total : TOPIC_TOTALS) {
                ObjectName name = new ObjectName("kafka.server:type=BrokerTopicMetrics,name=" + total);
                System.out.println("topics " + total + " " + server.getAttribute(name, "Count"));
            }
        }
    }
}
