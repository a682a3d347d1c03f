# Pitchbar webhook receiver: checks X-Pitchbar-Signature, then handles the event.
# Ruby 2.7+, standard library only. Run: ruby pitchbar_webhook.rb  (port: $PORT, default 3000)
# In Rails, Sinatra or any Rack app, call pitchbar_verify with request.raw_post (or
# request.body.read) and request.get_header("HTTP_X_PITCHBAR_SIGNATURE") instead.
require "json"
require "openssl"
require "socket"

# The endpoint's signing secret. The whole string, "whsec_" included, is the HMAC key.
PITCHBAR_SECRET = '__PITCHBAR_SECRET__'
# Older (or newer) signatures are refused, so a captured request cannot be replayed later.
TOLERANCE_SECONDS = 300

# Returns nil when the request is authentic, else why not.
def pitchbar_verify(header, raw_body)
  return "missing X-Pitchbar-Signature header" if header.nil? || header.empty?
  t = nil
  v1 = []
  header.split(",").each do |part|
    key, value = part.split("=", 2)
    next if value.nil?
    case key.strip
    when "t" then t = value.strip
    when "v1" then v1 << value.strip
    end
  end
  return "malformed X-Pitchbar-Signature header" unless t&.match?(/\A\d+\z/) && !v1.empty?
  expected = OpenSSL::HMAC.hexdigest("SHA256", PITCHBAR_SECRET, "#{t}.".b + raw_body.b)
  # While a secret is being rotated there is one v1 per valid secret: any match will do.
  return "signature mismatch" unless v1.any? { |sig| OpenSSL.secure_compare(expected, sig) }
  return "timestamp outside the 5-minute tolerance" if (Time.now.to_i - t.to_i).abs > TOLERANCE_SECONDS
  nil
end

# A minimal HTTP/1.1 server, one request per connection, so nothing outside Ruby is needed.
port = Integer(ENV.fetch("PORT", "3000"))
server = TCPServer.new("0.0.0.0", port)
puts "listening on port #{port}"
$stdout.flush
loop do
  client = server.accept
  begin
    next unless client.gets # the request line
    headers = {}
    while (line = client.gets) && line != "\r\n"
      name, value = line.split(":", 2)
      headers[name.strip.downcase] = value.to_s.strip
    end
    # The exact bytes that were signed: verify before parsing, never a re-serialized copy.
    raw_body = client.read(headers["content-length"].to_i) || ""
    error = pitchbar_verify(headers["x-pitchbar-signature"], raw_body)
    if error
      status, text = "400 Bad Request", error
    else
      event = JSON.parse(raw_body)
      # X-Pitchbar-Delivery is the same on every retry: use it to skip duplicates.
      puts "#{event["event"]} #{headers["x-pitchbar-delivery"]}"
      $stdout.flush
      # Handle the event here; answer within 5 seconds and do slow work afterwards.
      status, text = "200 OK", "ok"
    end
    client.write("HTTP/1.1 #{status}\r\nContent-Type: text/plain\r\n" \
                 "Content-Length: #{text.bytesize + 1}\r\nConnection: close\r\n\r\n#{text}\n")
  rescue StandardError => e
    warn "request failed: #{e.message}"
  ensure
    client.close
  end
end
